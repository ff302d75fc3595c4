//! A pickle reader that accepts plain data only.
//!
//! Python's pickle format is a small stack machine whose opcodes can import any callable
//! (`GLOBAL`, `STACK_GLOBAL`), call it (`REDUCE`, `NEWOBJ`, `OBJ`, `INST`) and set object
//! state (`BUILD`). A legacy file is data an operator hands us, so it is read in two steps:
//!
//! 1. [`scan`] walks every opcode (as Python's `pickletools` does) without building anything:
//!    it accepts only the opcodes of plain data written by protocols 2 to 5 (dict, list,
//!    tuple, str, bytes, int, float, bool, None, memo and frame opcodes) and refuses anything
//!    else by name and byte offset. It also checks each claimed length against the bytes
//!    that remain (so a claimed gigabyte is refused without being allocated), the nesting
//!    depth, memo references, the size the value would expand to through shared memo
//!    references, and that the pickle ends where the file ends.
//! 2. Only a pickle the scanner accepted is decoded, by the `serde-pickle` crate into its
//!    `Value`. That crate never runs code, but on its own it accepts `GLOBAL`/`REDUCE` for a
//!    few known callables (`set`, `bytearray`, `_codecs.encode`…), expands shared memo
//!    references by copying them and recurses without a depth limit; the scanner in front is
//!    what keeps a file from reaching those paths.
//!
//! A protocol-2 `bytes` value is written by CPython as `_codecs.encode(…)` through `GLOBAL`
//! and `REDUCE`, so it is refused like any other call; protocols 3 to 5 write bytes with the
//! plain `BINBYTES` opcodes, which are accepted.

use serde_pickle::{DeOptions, Value};

/// The largest file the reader opens.
pub const MAX_FILE_BYTES: usize = 64 * 1024 * 1024;
/// The deepest nesting of containers accepted.
pub const MAX_DEPTH: u32 = 100;
/// The most values the stack may hold at once (CPython writes containers in batches of 1000).
const MAX_STACK: usize = 100_000;
/// The most memo entries.
const MAX_MEMO: usize = 1_000_000;
/// The largest value, counted as its bytes plus 16 per item, after shared memo references
/// are expanded (a few memoised lists referenced many times could otherwise expand a small
/// file into gigabytes).
const MAX_EXPANDED: u64 = 4 * MAX_FILE_BYTES as u64;
/// The longest integer (`LONG1`/`LONG4`) in bytes; ids and settings are far smaller.
const MAX_LONG_BYTES: usize = 1024;

/// Why a pickle was refused: the byte offset of the opcode at fault and the reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    /// Offset from the start of the file.
    pub offset: usize,
    pub reason: String,
}

impl std::fmt::Display for Refusal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "refused at byte {}: {}", self.offset, self.reason)
    }
}

impl std::error::Error for Refusal {}

/// Scans then decodes `bytes`; any refusal names the offset at fault.
pub fn read(bytes: &[u8]) -> Result<Value, Refusal> {
    scan(bytes)?;
    serde_pickle::value_from_slice(bytes, DeOptions::new().decode_strings()).map_err(|e| Refusal {
        offset: 0,
        reason: format!("the pickle does not decode: {e}"),
    })
}

/// What an opcode is, for the scanner.
enum Op {
    /// Pushes a scalar whose payload is `len` bytes long (the length is read first).
    Scalar,
    Proto,
    Frame,
    Stop,
    Mark,
    EmptyContainer,
    /// Builds a tuple, list or dict from the values above the topmost mark.
    FromMark,
    /// Builds a tuple from the top 1, 2 or 3 values.
    TupleN(usize),
    Append,
    Appends,
    SetItem,
    SetItems,
    Put,
    Memoize,
    Get,
}

/// How an opcode's argument is encoded.
#[derive(Clone, Copy)]
enum Arg {
    None,
    /// A fixed number of bytes.
    Fixed(usize),
    /// A little-endian length of 1, 4 or 8 bytes, then that many bytes.
    Counted(usize),
}

/// The accepted opcodes; `Err` names a refused one and why.
fn opcode(byte: u8) -> Result<(&'static str, Op, Arg), String> {
    use Arg::*;
    Ok(match byte {
        0x80 => ("PROTO", Op::Proto, Fixed(1)),
        0x95 => ("FRAME", Op::Frame, Fixed(8)),
        b'.' => ("STOP", Op::Stop, None),
        b'(' => ("MARK", Op::Mark, None),
        b'N' => ("NONE", Op::Scalar, None),
        0x88 => ("NEWTRUE", Op::Scalar, None),
        0x89 => ("NEWFALSE", Op::Scalar, None),
        b'J' => ("BININT", Op::Scalar, Fixed(4)),
        b'K' => ("BININT1", Op::Scalar, Fixed(1)),
        b'M' => ("BININT2", Op::Scalar, Fixed(2)),
        0x8a => ("LONG1", Op::Scalar, Counted(1)),
        0x8b => ("LONG4", Op::Scalar, Counted(4)),
        b'G' => ("BINFLOAT", Op::Scalar, Fixed(8)),
        0x8c => ("SHORT_BINUNICODE", Op::Scalar, Counted(1)),
        b'X' => ("BINUNICODE", Op::Scalar, Counted(4)),
        0x8d => ("BINUNICODE8", Op::Scalar, Counted(8)),
        b'C' => ("SHORT_BINBYTES", Op::Scalar, Counted(1)),
        b'B' => ("BINBYTES", Op::Scalar, Counted(4)),
        0x8e => ("BINBYTES8", Op::Scalar, Counted(8)),
        b'U' => ("SHORT_BINSTRING", Op::Scalar, Counted(1)),
        b'T' => ("BINSTRING", Op::Scalar, Counted(4)),
        b'}' => ("EMPTY_DICT", Op::EmptyContainer, None),
        b']' => ("EMPTY_LIST", Op::EmptyContainer, None),
        b')' => ("EMPTY_TUPLE", Op::EmptyContainer, None),
        b't' => ("TUPLE", Op::FromMark, None),
        b'l' => ("LIST", Op::FromMark, None),
        b'd' => ("DICT", Op::FromMark, None),
        0x85 => ("TUPLE1", Op::TupleN(1), None),
        0x86 => ("TUPLE2", Op::TupleN(2), None),
        0x87 => ("TUPLE3", Op::TupleN(3), None),
        b'a' => ("APPEND", Op::Append, None),
        b'e' => ("APPENDS", Op::Appends, None),
        b's' => ("SETITEM", Op::SetItem, None),
        b'u' => ("SETITEMS", Op::SetItems, None),
        b'q' => ("BINPUT", Op::Put, Fixed(1)),
        b'r' => ("LONG_BINPUT", Op::Put, Fixed(4)),
        0x94 => ("MEMOIZE", Op::Memoize, None),
        b'h' => ("BINGET", Op::Get, Fixed(1)),
        b'j' => ("LONG_BINGET", Op::Get, Fixed(4)),
        other => return Err(refused_name(other)),
    })
}

/// The reason an opcode outside the accepted set is refused.
fn refused_name(byte: u8) -> String {
    let (name, why) = match byte {
        b'c' => ("GLOBAL", "imports a Python object"),
        0x93 => ("STACK_GLOBAL", "imports a Python object"),
        b'R' => ("REDUCE", "calls a Python object"),
        b'b' => ("BUILD", "sets a Python object's state"),
        b'i' => ("INST", "creates a class instance"),
        b'o' => ("OBJ", "creates a class instance"),
        0x81 => ("NEWOBJ", "creates a class instance"),
        0x92 => ("NEWOBJ_EX", "creates a class instance"),
        0x82 => ("EXT1", "loads a registered extension object"),
        0x83 => ("EXT2", "loads a registered extension object"),
        0x84 => ("EXT4", "loads a registered extension object"),
        b'P' => ("PERSID", "loads a persistent object"),
        b'Q' => ("BINPERSID", "loads a persistent object"),
        0x8f => ("EMPTY_SET", "builds a set, which is not plain data"),
        0x90 => ("ADDITEMS", "builds a set, which is not plain data"),
        0x91 => ("FROZENSET", "builds a set, which is not plain data"),
        0x96 => ("BYTEARRAY8", "builds a bytearray, which is not plain data"),
        0x97 => ("NEXT_BUFFER", "reads an out-of-band buffer"),
        0x98 => ("READONLY_BUFFER", "reads an out-of-band buffer"),
        b'0' | b'1' | b'2' => (
            "POP/DUP",
            "manipulates the stack, which plain data never needs",
        ),
        b'I' | b'L' | b'F' | b'S' | b'V' | b'p' | b'g' => {
            ("a protocol 0 opcode", "is not written by protocols 2 to 5")
        }
        _ => return format!("unknown opcode 0x{byte:02x}"),
    };
    format!("opcode {name} (0x{byte:02x}) {why}; only plain data is accepted")
}

/// A value on the scanner's stack.
#[derive(Clone, Copy)]
enum Item {
    Mark,
    /// A scalar of this weight.
    Scalar(u64),
    /// A container, by its index in [`Scanner::containers`].
    Container(usize),
}

/// What the scanner knows of one container.
#[derive(Clone, Copy)]
struct Container {
    /// 1 for an empty container, one more than its deepest child otherwise.
    depth: u32,
    /// Its expanded weight (see [`MAX_EXPANDED`]).
    weight: u64,
    /// Set once a memo reference has been taken to it: from then on it may not change, so a
    /// container can never come to hold itself and the depth and weight counted for every
    /// copy of it stay true.
    shared: bool,
}

struct Scanner<'a> {
    bytes: &'a [u8],
    pos: usize,
    stack: Vec<Item>,
    containers: Vec<Container>,
    memo: std::collections::HashMap<u32, Item>,
}

/// Checks that `bytes` is one pickle of plain data (see the module documentation).
pub fn scan(bytes: &[u8]) -> Result<(), Refusal> {
    if bytes.len() > MAX_FILE_BYTES {
        return Err(Refusal {
            offset: 0,
            reason: format!(
                "the file is {} bytes, over the limit of {MAX_FILE_BYTES}",
                bytes.len()
            ),
        });
    }
    Scanner {
        bytes,
        pos: 0,
        stack: Vec::new(),
        containers: Vec::new(),
        memo: std::collections::HashMap::new(),
    }
    .run()
}

impl Scanner<'_> {
    fn take(&mut self, at: usize, n: usize, what: &str) -> Result<&[u8], Refusal> {
        let remaining = self.bytes.len() - self.pos;
        if n > remaining {
            return Err(Refusal {
                offset: at,
                reason: format!(
                    "{what} needs {n} bytes but only {remaining} remain (truncated or a false length)"
                ),
            });
        }
        let slice = &self.bytes[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn le(&mut self, at: usize, n: usize, what: &str) -> Result<u64, Refusal> {
        let raw = self.take(at, n, what)?;
        Ok(raw
            .iter()
            .rev()
            .fold(0u64, |acc, b| (acc << 8) | u64::from(*b)))
    }

    fn pop(&mut self, at: usize, name: &str) -> Result<Item, Refusal> {
        match self.stack.pop() {
            Some(Item::Mark) | None => Err(refusal(at, format!("{name} finds no value to take"))),
            Some(item) => Ok(item),
        }
    }

    /// The values above the topmost mark, which is removed.
    fn pop_to_mark(&mut self, at: usize, name: &str) -> Result<Vec<Item>, Refusal> {
        let Some(mark) = self.stack.iter().rposition(|i| matches!(i, Item::Mark)) else {
            return Err(refusal(at, format!("{name} finds no mark")));
        };
        let items = self.stack.split_off(mark + 1);
        self.stack.pop();
        Ok(items)
    }

    fn measure(&self, item: Item) -> (u32, u64) {
        match item {
            Item::Container(i) => (self.containers[i].depth, self.containers[i].weight),
            Item::Scalar(w) => (0, w),
            Item::Mark => (0, 0),
        }
    }

    /// Records `children` as new content of container `target`.
    fn grow(
        &mut self,
        at: usize,
        name: &str,
        target: Item,
        children: &[Item],
    ) -> Result<(), Refusal> {
        let Item::Container(index) = target else {
            return Err(refusal(
                at,
                format!("{name} adds to a value that is not a container"),
            ));
        };
        if self.containers[index].shared {
            return Err(refusal(
                at,
                format!("{name} changes a container after a reference to it was taken"),
            ));
        }
        let mut depth = self.containers[index].depth;
        let mut weight = self.containers[index].weight;
        for child in children {
            if let Item::Container(c) = child
                && *c == index
            {
                return Err(refusal(
                    at,
                    format!("{name} puts a container inside itself"),
                ));
            }
            let (d, w) = self.measure(*child);
            depth = depth.max(d + 1);
            weight = weight.saturating_add(w);
        }
        self.limit(at, depth, weight)?;
        self.containers[index].depth = depth;
        self.containers[index].weight = weight;
        Ok(())
    }

    fn limit(&self, at: usize, depth: u32, weight: u64) -> Result<(), Refusal> {
        if depth > MAX_DEPTH {
            return Err(refusal(
                at,
                format!("containers are nested deeper than {MAX_DEPTH}"),
            ));
        }
        if weight > MAX_EXPANDED {
            return Err(refusal(
                at,
                format!(
                    "the value would expand beyond {MAX_EXPANDED} bytes through shared references"
                ),
            ));
        }
        Ok(())
    }

    fn push(&mut self, at: usize, item: Item) -> Result<(), Refusal> {
        if self.stack.len() >= MAX_STACK {
            return Err(refusal(
                at,
                format!("more than {MAX_STACK} values on the stack"),
            ));
        }
        self.stack.push(item);
        Ok(())
    }

    fn new_container(&mut self, at: usize, children: &[Item]) -> Result<Item, Refusal> {
        self.containers.push(Container {
            depth: 1,
            weight: 16,
            shared: false,
        });
        let item = Item::Container(self.containers.len() - 1);
        self.grow(at, "a new container", item, children)?;
        Ok(item)
    }

    fn memo_put(&mut self, at: usize, index: u32) -> Result<(), Refusal> {
        let Some(top) = self
            .stack
            .last()
            .copied()
            .filter(|i| !matches!(i, Item::Mark))
        else {
            return Err(refusal(at, "a memo entry is made of no value".into()));
        };
        if self.memo.len() >= MAX_MEMO && !self.memo.contains_key(&index) {
            return Err(refusal(at, format!("more than {MAX_MEMO} memo entries")));
        }
        self.memo.insert(index, top);
        Ok(())
    }

    fn run(mut self) -> Result<(), Refusal> {
        // A pickle of protocol 2 to 5 begins with PROTO.
        match self.bytes.first() {
            Some(0x80) => {}
            Some(_) => {
                return Err(refusal(
                    0,
                    "not a pickle of protocol 2 to 5 (no PROTO opcode)".into(),
                ));
            }
            None => return Err(refusal(0, "the file is empty".into())),
        }
        let mut frame_end: Option<usize> = None;
        loop {
            let at = self.pos;
            if let Some(end) = frame_end
                && at > end
            {
                return Err(refusal(at, "an opcode crosses the end of its frame".into()));
            }
            let Some(&byte) = self.bytes.get(at) else {
                return Err(refusal(
                    at,
                    "the pickle ends without STOP (truncated)".into(),
                ));
            };
            self.pos += 1;
            let (name, op, arg) = opcode(byte).map_err(|reason| refusal(at, reason))?;
            let payload = match arg {
                Arg::None => 0,
                Arg::Fixed(n) => {
                    self.take(at, n, name)?;
                    n
                }
                Arg::Counted(width) => {
                    let len = self.le(at, width, name)?;
                    let len = usize::try_from(len).unwrap_or(usize::MAX);
                    if matches!(byte, 0x8a | 0x8b) && len > MAX_LONG_BYTES {
                        return Err(refusal(
                            at,
                            format!(
                                "{name} holds an integer of {len} bytes, over {MAX_LONG_BYTES}"
                            ),
                        ));
                    }
                    self.take(at, len, name)?;
                    len
                }
            };
            match op {
                Op::Proto => {
                    let version = self.bytes[at + 1];
                    if !(2..=5).contains(&version) || at != 0 {
                        return Err(refusal(
                            at,
                            format!(
                                "protocol {version} here; only one PROTO of 2 to 5 at the start is accepted"
                            ),
                        ));
                    }
                }
                Op::Frame => {
                    let len = self.bytes[at + 1..at + 9]
                        .iter()
                        .rev()
                        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b));
                    let remaining = (self.bytes.len() - self.pos) as u64;
                    if len > remaining {
                        return Err(refusal(
                            at,
                            format!(
                                "FRAME claims {len} bytes but only {remaining} remain (truncated or a false length)"
                            ),
                        ));
                    }
                    frame_end = Some(self.pos + len as usize);
                }
                Op::Stop => {
                    let value = self.pop(at, name)?;
                    if !self.stack.is_empty() {
                        return Err(refusal(at, "STOP leaves values on the stack".into()));
                    }
                    let (depth, weight) = self.measure(value);
                    self.limit(at, depth, weight)?;
                    if self.pos != self.bytes.len() {
                        return Err(refusal(
                            self.pos,
                            "bytes follow the end of the pickle".into(),
                        ));
                    }
                    return Ok(());
                }
                Op::Mark => self.push(at, Item::Mark)?,
                Op::Scalar => self.push(at, Item::Scalar(16 + payload as u64))?,
                Op::EmptyContainer => {
                    let item = self.new_container(at, &[])?;
                    self.push(at, item)?;
                }
                Op::FromMark => {
                    let items = self.pop_to_mark(at, name)?;
                    if byte == b'd' && items.len() % 2 != 0 {
                        return Err(refusal(at, "DICT finds an odd number of values".into()));
                    }
                    let item = self.new_container(at, &items)?;
                    self.push(at, item)?;
                }
                Op::TupleN(n) => {
                    let mut items = Vec::with_capacity(n);
                    for _ in 0..n {
                        items.push(self.pop(at, name)?);
                    }
                    let item = self.new_container(at, &items)?;
                    self.push(at, item)?;
                }
                Op::Append => {
                    let value = self.pop(at, name)?;
                    let target = self.pop(at, name)?;
                    self.grow(at, name, target, &[value])?;
                    self.push(at, target)?;
                }
                Op::SetItem => {
                    let value = self.pop(at, name)?;
                    let key = self.pop(at, name)?;
                    let target = self.pop(at, name)?;
                    self.grow(at, name, target, &[key, value])?;
                    self.push(at, target)?;
                }
                Op::Appends | Op::SetItems => {
                    let items = self.pop_to_mark(at, name)?;
                    if matches!(op, Op::SetItems) && items.len() % 2 != 0 {
                        return Err(refusal(at, "SETITEMS finds an odd number of values".into()));
                    }
                    let target = self.pop(at, name)?;
                    self.grow(at, name, target, &items)?;
                    self.push(at, target)?;
                }
                Op::Put => {
                    let index = little_endian(&self.bytes[at + 1..at + 1 + payload]);
                    self.memo_put(at, index)?;
                }
                Op::Memoize => {
                    let index = u32::try_from(self.memo.len()).unwrap_or(u32::MAX);
                    self.memo_put(at, index)?;
                }
                Op::Get => {
                    let index = little_endian(&self.bytes[at + 1..at + 1 + payload]);
                    let Some(item) = self.memo.get(&index).copied() else {
                        return Err(refusal(
                            at,
                            format!(
                                "{name} refers to memo entry {index}, which does not exist ({} entries)",
                                self.memo.len()
                            ),
                        ));
                    };
                    if let Item::Container(c) = item {
                        self.containers[c].shared = true;
                    }
                    self.push(at, item)?;
                }
            }
        }
    }
}

/// A memo index of 1 or 4 bytes, little-endian.
fn little_endian(raw: &[u8]) -> u32 {
    raw.iter()
        .rev()
        .fold(0u32, |acc, b| (acc << 8) | u32::from(*b))
}

fn refusal(offset: usize, reason: String) -> Refusal {
    Refusal { offset, reason }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn refused(bytes: &[u8]) -> Refusal {
        scan(bytes).expect_err("refused")
    }

    #[test]
    fn plain_data_is_decoded() {
        // pickle.dumps({"a": [1, "x", None, True, 2.5]}, protocol=2)
        let bytes = b"\x80\x02}q\x00X\x01\x00\x00\x00aq\x01]q\x02(K\x01X\x01\x00\x00\x00xq\x03N\x88G@\x04\x00\x00\x00\x00\x00\x00es.";
        let value = read(bytes).unwrap();
        assert!(matches!(value, Value::Dict(_)), "{value:?}");
    }

    #[test]
    fn a_call_is_refused_by_name_and_offset() {
        // GLOBAL 'os system' at byte 2.
        let bytes = b"\x80\x02cos\nsystem\nq\x00X\x04\x00\x00\x00trueq\x01\x85q\x02Rq\x03.";
        let r = refused(bytes);
        assert_eq!(r.offset, 2);
        assert!(r.reason.contains("GLOBAL"), "{r}");
    }

    #[test]
    fn globals_the_decoder_alone_would_resolve_are_refused() {
        // pickle.dumps({1, 2}, protocol=2): GLOBAL __builtin__.set, then REDUCE.
        let set = b"\x80\x02c__builtin__\nset\nq\x00]q\x01(K\x01K\x02e\x85q\x02Rq\x03.";
        assert!(
            serde_pickle::value_from_slice(set, DeOptions::new()).is_ok(),
            "serde-pickle on its own resolves the global and applies REDUCE"
        );
        let r = read(set).unwrap_err();
        assert_eq!(r.offset, 2);
        assert!(r.reason.contains("GLOBAL"), "{r}");
    }

    #[test]
    fn a_claimed_length_beyond_the_file_is_refused() {
        let r = refused(b"\x80\x04X\x00\x00\x00\x40abc.");
        assert_eq!(r.offset, 2);
        assert!(r.reason.contains("1073741824"), "{r}");
    }

    #[test]
    fn nesting_beyond_the_limit_is_refused() {
        let mut bytes = vec![0x80, 4];
        bytes.extend(std::iter::repeat_n(b']', 200));
        bytes.extend(std::iter::repeat_n(b'a', 199));
        bytes.push(b'.');
        assert!(refused(&bytes).reason.contains("nested"));
        let mut ok = vec![0x80, 4];
        ok.extend(std::iter::repeat_n(b']', 100));
        ok.extend(std::iter::repeat_n(b'a', 99));
        ok.push(b'.');
        assert!(scan(&ok).is_ok());
    }

    #[test]
    fn memo_misuse_is_refused() {
        assert!(refused(b"\x80\x04h\x05.").reason.contains("memo entry 5"));
        // A list that would hold itself: EMPTY_LIST MEMOIZE BINGET 0 APPEND.
        assert!(scan(b"\x80\x04]\x94h\x00a.").is_err());
    }

    #[test]
    fn shared_references_cannot_expand_without_bound() {
        // l0 = [long string]; each next list holds the previous one 1000 times.
        let mut b = vec![0x80, 4, b']', 0x94, b'B'];
        b.extend(1_000_000u32.to_le_bytes());
        b.extend(std::iter::repeat_n(b'x', 1_000_000));
        b.push(b'a');
        for level in 0..3u32 {
            b.extend([b']', 0x94, b'(']);
            for _ in 0..1000 {
                b.push(b'j');
                b.extend((level).to_le_bytes());
            }
            b.push(b'e');
        }
        b.push(b'.');
        assert!(refused(&b).reason.contains("expand"));
    }

    #[test]
    fn truncated_and_trailing_bytes_are_refused() {
        assert!(refused(b"\x80\x04]").reason.contains("truncated"));
        assert!(refused(b"\x80\x04N.N").reason.contains("follow"));
        assert!(refused(b"N.").reason.contains("PROTO"));
        let big = vec![0x80; MAX_FILE_BYTES + 1];
        assert!(refused(&big).reason.contains("over the limit"));
    }
}
