//! Group commit: writes that arrive together share one transaction.
//!
//! A small write (one event appended, say) costs little more than the transaction around it:
//! on SQLite the writer turn, `BEGIN IMMEDIATE` and `COMMIT`, each a trip to the writer
//! connection's thread; on PostgreSQL a round trip each and a commit. Under many concurrent
//! small writes those dominate. A [`Grouped`] queue therefore has one group out at a time per
//! pool: writes submitted while it is out wait, and go together in the next one, which the
//! group's function writes in one transaction. A lone write goes out at once, never waiting
//! for company.
//!
//! - A group holds at most the items whose weights add up to the bound given by the caller
//!   (but always at least one item); more waiting go out in the groups after, in order.
//! - The groups are written in a task of their own, so a caller that goes away (a request
//!   whose client hung up) never strands the callers grouped with it, and its write still
//!   completes or fails as a whole.
//! - Every caller is answered only once its group's function has returned, so an answer that
//!   says "written" comes after the commit. The function answers each item on its own: it is
//!   the function's business to keep one item's failure from becoming its neighbours' (e.g. by
//!   writing each item alone when the group's transaction fails).
//! - A group whose task panics or is cancelled (its runtime shutting down) answers
//!   [`GroupLost`] to each of its callers.

use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};

use tokio::sync::oneshot;

/// The group a write was in ended without an answer (its task panicked or was cancelled):
/// whether it was written is unknown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GroupLost;

/// The writes of one kind on one pool (keep one per pool, e.g. in a
/// [`PerPool`](super::per_pool::PerPool)).
pub struct Grouped<I, A> {
    pending: Mutex<Pending<I, A>>,
}

/// A waiting write: its item, its weight and where its answer goes.
type Waiting<I, A> = (I, usize, oneshot::Sender<A>);

struct Pending<I, A> {
    /// Whether the task that writes the groups is running; it takes `waiting` each time its
    /// group is written, and stops when none is left.
    running: bool,
    waiting: Vec<Waiting<I, A>>,
}

impl<I, A> Default for Grouped<I, A> {
    fn default() -> Self {
        Self {
            pending: Mutex::new(Pending {
                running: false,
                waiting: Vec::new(),
            }),
        }
    }
}

impl<I, A> Grouped<I, A>
where
    I: Send + 'static,
    A: Send + 'static,
{
    /// Writes `item` together with the items submitted at the same time, and answers what
    /// `write` answered for it. `write` receives a group in submission order, whose weights
    /// add up to at most `bound` (a heavier item goes alone), and answers one value per item,
    /// in the same order. The first caller's `write` and `bound` are the ones used while the
    /// groups go on, so every caller of one `Grouped` must pass the same.
    pub async fn submit<F, Fut>(
        self: &Arc<Self>,
        item: I,
        weight: usize,
        bound: usize,
        write: F,
    ) -> Result<A, GroupLost>
    where
        F: Fn(Vec<I>) -> Fut + Send + 'static,
        Fut: Future<Output = Vec<A>> + Send + 'static,
    {
        let (answer, answered) = oneshot::channel();
        let start = {
            let mut pending = self.lock();
            pending.waiting.push((item, weight, answer));
            !std::mem::replace(&mut pending.running, true)
        };
        if start {
            tokio::spawn(Arc::clone(self).write_groups(bound, write));
        }
        answered.await.map_err(|_| GroupLost)
    }

    /// Writes the waiting items, one group at a time, until none is left.
    async fn write_groups<F, Fut>(self: Arc<Self>, bound: usize, write: F)
    where
        F: Fn(Vec<I>) -> Fut,
        Fut: Future<Output = Vec<A>>,
    {
        let mut unfinished = Unfinished(Some(&self));
        loop {
            let group = {
                let mut pending = self.lock();
                if pending.waiting.is_empty() {
                    pending.running = false;
                    unfinished.0 = None;
                    return;
                }
                let n = group_len(pending.waiting.iter().map(|(_, w, _)| *w), bound);
                pending.waiting.drain(..n).collect::<Vec<_>>()
            };
            let (items, answers): (Vec<I>, Vec<oneshot::Sender<A>>) = group
                .into_iter()
                .map(|(item, _, answer)| (item, answer))
                .unzip();
            let written = write(items).await;
            for (answer, value) in answers.into_iter().zip(written) {
                // A caller that went away no longer listens.
                let _ = answer.send(value);
            }
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Pending<I, A>> {
        self.pending.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// How many of the leading `weights` make one group: as many as fit within `bound`, and at
/// least one.
fn group_len(weights: impl Iterator<Item = usize>, bound: usize) -> usize {
    let mut total = 0usize;
    let mut n = 0;
    for weight in weights {
        total = total.saturating_add(weight);
        if n > 0 && total > bound {
            break;
        }
        n += 1;
    }
    n
}

/// Lets the next caller start a new task when this one ends before its work is done (a
/// panic, or its runtime shutting down): the callers waiting then are dropped, so they are
/// answered [`GroupLost`].
struct Unfinished<'a, I, A>(Option<&'a Grouped<I, A>>);

impl<I, A> Drop for Unfinished<'_, I, A> {
    fn drop(&mut self) {
        if let Some(grouped) = self.0 {
            let mut pending = grouped
                .pending
                .lock()
                .unwrap_or_else(PoisonError::into_inner);
            pending.running = false;
            pending.waiting.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use futures_util::future::BoxFuture;
    use tokio::sync::Notify;

    /// A write that records each group and answers every item doubled; it waits for
    /// `release` before answering when told to.
    #[derive(Clone, Default)]
    struct Recorder {
        groups: Arc<Mutex<Vec<Vec<u32>>>>,
        release: Arc<Notify>,
    }

    type Write = Box<dyn Fn(Vec<u32>) -> BoxFuture<'static, Vec<u32>> + Send>;

    impl Recorder {
        fn write(&self, hold: bool) -> Write {
            let this = self.clone();
            Box::new(move |items: Vec<u32>| {
                let this = this.clone();
                Box::pin(async move {
                    this.groups.lock().unwrap().push(items.clone());
                    if hold {
                        this.release.notified().await;
                    }
                    items.into_iter().map(|i| i * 2).collect()
                })
            })
        }
    }

    #[test]
    fn a_group_fills_up_to_its_bound_and_takes_at_least_one() {
        assert_eq!(group_len([1, 1, 1].into_iter(), 2), 2);
        assert_eq!(group_len([5, 1].into_iter(), 2), 1);
        assert_eq!(group_len([1, 5].into_iter(), 2), 1);
        assert_eq!(group_len([2, 3, 5].into_iter(), 10), 3);
        assert_eq!(group_len(std::iter::empty(), 10), 0);
    }

    #[tokio::test]
    async fn writes_submitted_while_a_group_is_out_go_together_in_the_next() {
        let grouped = Arc::new(Grouped::<u32, u32>::default());
        let recorder = Recorder::default();
        let first = tokio::spawn({
            let (grouped, write) = (Arc::clone(&grouped), recorder.write(true));
            async move { grouped.submit(1, 1, 100, write).await }
        });
        while recorder.groups.lock().unwrap().is_empty() {
            tokio::task::yield_now().await;
        }
        let mut later = Vec::new();
        for item in [2, 3, 4] {
            let (grouped, write) = (Arc::clone(&grouped), recorder.write(true));
            later.push(tokio::spawn(async move {
                grouped.submit(item, 1, 100, write).await
            }));
        }
        while grouped.lock().waiting.len() < 3 {
            tokio::task::yield_now().await;
        }
        recorder.release.notify_one();
        assert_eq!(first.await.unwrap(), Ok(2));
        recorder.release.notify_one();
        let answers: Vec<_> = futures_util::future::join_all(later)
            .await
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(answers, [Ok(4), Ok(6), Ok(8)]);
        assert_eq!(*recorder.groups.lock().unwrap(), [vec![1], vec![2, 3, 4]]);
        assert!(
            !grouped.lock().running,
            "the task stops when no write is left"
        );
    }

    #[tokio::test]
    async fn a_panicking_group_answers_lost_and_the_next_write_goes_on() {
        let grouped = Arc::new(Grouped::<u32, u32>::default());
        let panicking = |_: Vec<u32>| async {
            if true {
                panic!("a bug in the write");
            }
            Vec::new()
        };
        assert_eq!(grouped.submit(1, 1, 10, panicking).await, Err(GroupLost));
        let recorder = Recorder::default();
        assert_eq!(
            grouped.submit(5, 1, 10, recorder.write(false)).await,
            Ok(10)
        );
    }
}
