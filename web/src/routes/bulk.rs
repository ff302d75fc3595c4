//! The one bulk-action route every list with checkboxes uses: the ticked ids and the action
//! arrive, the list names each item (refusing, before anything changes, an id that names
//! nothing or an item the caller may not act on), the question is asked through the
//! confirmation component, and once it is answered the list applies the action.
//!
//! A list contributes only what differs: its addresses, its nouns, its actions, how it names
//! and checks its items and how it applies an action ([`BulkList`]). The route's own
//! permission is declared in the router like every other route's.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use service::affected::{Affected, SHOWN};

use crate::auth::Acting;
use crate::error::PageError;
use crate::flash::Flash;
use crate::pages::{BulkAction, Confirmation, PageContext, count_of};
use crate::routes::forms::{ConfirmForm, PageForm, distinct};
use crate::state::AppState;

/// How many items one bulk action may name (the largest page).
pub const BULK_MAX: usize = 500;

/// What a list tells its question about the ticked items.
#[derive(Debug, Default)]
pub struct Described {
    /// Each item by name, in the order ticked.
    pub names: Vec<String>,
    /// Anything else the action reaches ("12 entities go with them.").
    pub consequences: Vec<String>,
}

/// A list whose items can be acted on in bulk.
pub trait BulkList {
    /// The list's address; only its pages are places to come back to.
    const LIST: &'static str;
    /// Where the ticked ids post.
    const ROUTE: &'static str;
    /// The item's noun, one and many ("entity", "entities").
    const NOUN: (&'static str, &'static str);
    /// The actions the list offers.
    const ACTIONS: &'static [BulkAction];

    /// What `action` does to each item, in a sentence for the question.
    fn what(action: BulkAction) -> &'static str;

    /// Names the items `ids` and says what else `action` reaches; an id naming nothing
    /// (`404`) or an item the caller may not act on (`403`) refuses the whole action.
    async fn describe(
        state: &AppState,
        acting: &Acting,
        action: BulkAction,
        ids: &[String],
    ) -> Result<Described, service::Error>;

    /// Applies `action` to the items `ids`; answers how many it changed.
    async fn apply(
        state: &AppState,
        acting: &Acting,
        action: BulkAction,
        ids: &[String],
    ) -> Result<u64, service::Error>;
}

/// The list page `req` shows (list address `list`, with its query string): where a bulk
/// action comes back to, filters and page kept.
pub fn here(req: &HttpRequest, list: &str) -> String {
    match req.query_string() {
        "" => list.to_string(),
        q => format!("{list}?{q}"),
    }
}

/// The body of a bulk action: the ticked ids, the action's button, the list page to return
/// to, and the confirmation once the question was answered.
#[derive(Debug, Default, Deserialize)]
#[serde(default)]
pub struct BulkForm {
    ids: Vec<String>,
    action: String,
    back: String,
    confirm: String,
}

/// Asks, then applies, the bulk action of list `L`; nothing changes until the question's
/// button is pressed.
pub async fn handle<L: BulkList>(
    ctx: PageContext,
    acting: Acting,
    state: web::Data<AppState>,
    PageForm(form): PageForm<BulkForm>,
) -> Result<HttpResponse, PageError> {
    // Only a page of this list is a place to come back to (no open redirect).
    let back = Some(form.back.as_str())
        .filter(|b| *b == L::LIST || b.strip_prefix(L::LIST).is_some_and(|q| q.starts_with('?')))
        .unwrap_or(L::LIST)
        .to_string();
    // A list of one action needs no button to name it (a script submitting the form).
    let action = match (form.action.trim(), L::ACTIONS) {
        ("", [only]) => Some(*only),
        (raw, _) => BulkAction::parse(raw).filter(|a| L::ACTIONS.contains(a)),
    };
    let Some(action) = action else {
        return Err(PageError::new(
            StatusCode::BAD_REQUEST,
            "Choose one of the buttons above the list.",
        ));
    };
    let (one, many) = L::NOUN;
    let ids = distinct(&form.ids);
    if ids.is_empty() {
        let verb = action.verb().to_lowercase();
        return Ok(ctx.redirect(
            &back,
            Flash::error(format!("Tick the {many} to {verb} first.")),
        ));
    }
    if ids.len() > BULK_MAX {
        return Err(PageError::new(
            StatusCode::BAD_REQUEST,
            format!("At most {BULK_MAX} {many} are changed at once."),
        ));
    }
    // Checked again on confirmation: the items may have changed since the question.
    let described = L::describe(&state, &acting, action, &ids).await?;
    let confirm = ConfirmForm {
        confirm: form.confirm.clone(),
    };
    if !confirm.is_given() {
        return ctx.confirm(question::<L>(action, &ids, described, &back));
    }
    let changed = L::apply(&state, &acting, action, &ids).await?;
    let (was, were) = (format!("{one} was"), format!("{many} were"));
    Ok(ctx.redirect(
        &back,
        Flash::success(format!(
            "{} {}.",
            count_of(changed, &was, &were),
            action.done()
        )),
    ))
}

/// The question of `action` on `ids`: what it does, the items by name, what else it reaches;
/// the ids, the action and the page to return to ride along with the answer.
fn question<L: BulkList>(
    action: BulkAction,
    ids: &[String],
    described: Described,
    back: &str,
) -> Confirmation {
    let (one, many) = L::NOUN;
    let total = ids.len() as u64;
    let title = format!("{} {}?", action.verb(), count_of(total, one, many));
    let label = format!("{} {}", action.verb(), if total == 1 { one } else { many });
    let reached = Affected {
        total,
        names: described.names.into_iter().take(SHOWN as usize).collect(),
    };
    let mut q = Confirmation::new(title, L::ROUTE, label, back)
        .what(L::what(action))
        .reaches(&reached, |n| {
            format!("{} will be {}:", count_of(n, one, many), action.done())
        });
    for c in described.consequences {
        q = q.consequence(c);
    }
    for id in ids {
        q = q.hidden("ids", id);
    }
    q.hidden("action", action.value()).hidden("back", back)
}
