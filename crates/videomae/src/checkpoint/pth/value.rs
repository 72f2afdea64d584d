//! The values a pickle builds. Nothing is executed: a class or function
//! named by the file is a [`Value::Global`], a call of one is an opaque
//! [`Value::Object`], except the few rebuilds of tensors and dicts that
//! `torch.save` writes (see `pickle.rs`).
//!
//! Containers are shared by reference (`Rc`): a memoised object reused
//! many times costs one pointer per use, never a deep copy, so a pickle
//! that reuses an object exponentially stays small. Dropping a deep tree
//! is iterative (see [`drain`]) so that no input can overflow the stack.

use std::cell::{Cell, RefCell};
use std::rc::Rc;

use super::tensor::{Storage, TensorRef};

/// The deepest nesting a pickle may build. `torch.save` state dicts nest a
/// handful of levels; a hostile file nests a million.
pub(crate) const MAX_DEPTH: u32 = 1000;

/// A pickled value.
#[derive(Clone)]
pub(crate) enum Value {
    None,
    Bool(bool),
    Int(i64),
    /// An integer wider than 64 bits (kept opaque).
    BigInt,
    Float,
    Str(Rc<str>),
    Bytes,
    Tuple(Rc<Seq>),
    List(Rc<Seq>),
    /// Sets and frozensets (kept opaque: nothing reads them).
    Set(Rc<Seq>),
    Dict(Rc<Dict>),
    /// `module.name`, never imported.
    Global(Rc<(String, String)>),
    /// A call of an unknown class or function, kept opaque.
    Object(Rc<Object>),
    /// A storage named by a persistent id.
    Storage(Rc<Storage>),
    /// A tensor, or why its rebuild arguments are malformed (reported with
    /// the tensor's key when the state dict uses it).
    Tensor(Rc<Result<TensorRef, String>>),
}

/// A tuple, list or set: items and nesting depth.
pub(crate) struct Seq {
    pub items: RefCell<Vec<Value>>,
    depth: Cell<u32>,
}

/// A dict in insertion order (duplicates are kept; the state dict reader
/// refuses them).
pub(crate) struct Dict {
    pub items: RefCell<Vec<(Value, Value)>>,
    depth: Cell<u32>,
}

/// An opaque object: what was called and with what (the arguments
/// shared, not copied: a memoised tuple can be the arguments of many
/// calls), plus what BUILD, APPEND or SETITEM added to it.
pub(crate) struct Object {
    pub callable: Value,
    pub args: Value,
    pub extra: RefCell<Vec<Value>>,
    depth: Cell<u32>,
}

impl Value {
    /// Nesting depth: 0 for scalars.
    pub fn depth(&self) -> u32 {
        match self {
            Value::Tuple(s) | Value::List(s) | Value::Set(s) => s.depth.get(),
            Value::Dict(d) => d.depth.get(),
            Value::Object(o) => o.depth.get(),
            _ => 0,
        }
    }

    /// A short name of the value's kind, for messages (never its content:
    /// it can be huge or deep).
    pub fn kind(&self) -> String {
        match self {
            Value::None => "None".into(),
            Value::Bool(_) => "bool".into(),
            Value::Int(_) | Value::BigInt => "int".into(),
            Value::Float => "float".into(),
            Value::Str(_) => "str".into(),
            Value::Bytes => "bytes".into(),
            Value::Tuple(_) => "tuple".into(),
            Value::List(_) => "list".into(),
            Value::Set(_) => "set".into(),
            Value::Dict(_) => "dict".into(),
            Value::Global(g) => format!("{}.{}", short(&g.0), short(&g.1)),
            Value::Object(o) => match &o.callable {
                Value::Global(g) => format!("{}.{} object", short(&g.0), short(&g.1)),
                _ => "object".into(),
            },
            Value::Storage(_) => "storage".into(),
            Value::Tensor(_) => "tensor".into(),
        }
    }
}

/// At most 60 characters of a name from the file.
pub(crate) fn short(s: &str) -> String {
    if s.chars().count() <= 60 {
        s.to_owned()
    } else {
        format!("{}...", s.chars().take(57).collect::<String>())
    }
}

fn too_deep() -> String {
    format!("the pickle nests deeper than {MAX_DEPTH} levels")
}

/// Depth of a container holding `items`.
fn depth_of<'a>(items: impl Iterator<Item = &'a Value>) -> Result<u32, String> {
    let d = 1 + items.map(Value::depth).max().unwrap_or(0);
    if d > MAX_DEPTH {
        return Err(too_deep());
    }
    Ok(d)
}

/// Raises a container's recorded depth to hold `child`. Containers that
/// already hold this one keep their older depth: the cap is approximate
/// after mutation, which is harmless because nothing here recurses.
fn grow(depth: &Cell<u32>, child: &Value) -> Result<(), String> {
    let d = depth.get().max(child.depth() + 1);
    if d > MAX_DEPTH {
        return Err(too_deep());
    }
    depth.set(d);
    Ok(())
}

impl Seq {
    pub fn new(items: Vec<Value>) -> Result<Rc<Seq>, String> {
        let depth = Cell::new(depth_of(items.iter())?);
        Ok(Rc::new(Seq {
            items: RefCell::new(items),
            depth,
        }))
    }

    pub fn push(&self, v: Value) -> Result<(), String> {
        grow(&self.depth, &v)?;
        self.items.borrow_mut().push(v);
        Ok(())
    }
}

impl Dict {
    pub fn new(items: Vec<(Value, Value)>) -> Result<Rc<Dict>, String> {
        let depth = depth_of(items.iter().flat_map(|(k, v)| [k, v]))?;
        Ok(Rc::new(Dict {
            items: RefCell::new(items),
            depth: Cell::new(depth),
        }))
    }

    pub fn insert(&self, k: Value, v: Value) -> Result<(), String> {
        grow(&self.depth, &k)?;
        grow(&self.depth, &v)?;
        self.items.borrow_mut().push((k, v));
        Ok(())
    }

    /// The value of the last entry with string key `key`.
    pub fn get(&self, key: &str) -> Option<Value> {
        self.items
            .borrow()
            .iter()
            .rev()
            .find(|(k, _)| matches!(k, Value::Str(s) if &**s == key))
            .map(|(_, v)| v.clone())
    }
}

impl Object {
    pub fn new(callable: Value, args: Value) -> Result<Rc<Object>, String> {
        let depth = depth_of([&callable, &args].into_iter())?;
        Ok(Rc::new(Object {
            callable,
            args,
            extra: RefCell::new(Vec::new()),
            depth: Cell::new(depth),
        }))
    }

    /// Keeps `v` (a BUILD state or items added to the object).
    pub fn absorb(&self, v: Value) -> Result<(), String> {
        grow(&self.depth, &v)?;
        self.extra.borrow_mut().push(v);
        Ok(())
    }
}

/// Drops values without recursion: a container whose last reference is
/// dropped hands its items to this loop instead of dropping them inside
/// its own `drop`, so a million nested tuples take a million iterations,
/// not a million stack frames.
pub(crate) fn drain(mut stack: Vec<Value>) {
    while let Some(v) = stack.pop() {
        match v {
            Value::Tuple(mut s) | Value::List(mut s) | Value::Set(mut s) => {
                if let Some(seq) = Rc::get_mut(&mut s) {
                    stack.append(seq.items.get_mut());
                }
            }
            Value::Dict(mut d) => {
                if let Some(dict) = Rc::get_mut(&mut d) {
                    for (k, v) in dict.items.get_mut().drain(..) {
                        stack.push(k);
                        stack.push(v);
                    }
                }
            }
            Value::Object(mut o) => {
                if let Some(obj) = Rc::get_mut(&mut o) {
                    stack.append(obj.extra.get_mut());
                    stack.push(std::mem::replace(&mut obj.callable, Value::None));
                    stack.push(std::mem::replace(&mut obj.args, Value::None));
                }
            }
            _ => {}
        }
        // `v`'s container (if this was its last reference) is empty now.
    }
}

impl Drop for Seq {
    fn drop(&mut self) {
        drain(std::mem::take(self.items.get_mut()));
    }
}

impl Drop for Dict {
    fn drop(&mut self) {
        let items = std::mem::take(self.items.get_mut());
        drain(items.into_iter().flat_map(|(k, v)| [k, v]).collect());
    }
}

impl Drop for Object {
    fn drop(&mut self) {
        let mut items = std::mem::take(self.extra.get_mut());
        items.push(std::mem::replace(&mut self.callable, Value::None));
        items.push(std::mem::replace(&mut self.args, Value::None));
        drain(items);
    }
}

/// Items of a MARK frame as `(key, value)` pairs (SETITEMS, DICT).
pub(crate) fn pairs(items: Vec<Value>) -> Result<Vec<(Value, Value)>, String> {
    if !items.len().is_multiple_of(2) {
        return Err("odd number of dict items".into());
    }
    let mut out = Vec::with_capacity(items.len() / 2);
    let mut it = items.into_iter();
    while let (Some(k), Some(v)) = (it.next(), it.next()) {
        out.push((k, v));
    }
    Ok(out)
}

/// A little-endian two's complement integer (LONG1/LONG4).
pub(crate) fn long(b: &[u8]) -> Value {
    if b.len() > 8 {
        return Value::BigInt;
    }
    if b.is_empty() {
        return Value::Int(0);
    }
    let neg = b[b.len() - 1] & 0x80 != 0;
    let mut buf = [if neg { 0xff } else { 0 }; 8];
    buf[..b.len()].copy_from_slice(b);
    Value::Int(i64::from_le_bytes(buf))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dropping_a_deep_chain_does_not_overflow_the_stack() {
        // Built without the depth cap (by pushing into lists), as mutation
        // can: a million levels would overflow any recursive drop.
        let root = Seq::new(vec![]).unwrap();
        let mut cur = root.clone();
        for _ in 0..1_000_000 {
            let next = Seq::new(vec![]).unwrap();
            cur.items.borrow_mut().push(Value::List(next.clone()));
            cur = next;
        }
        drop(cur);
        drop(root);
    }

    #[test]
    fn depth_is_capped_at_construction() {
        let mut v = Value::None;
        for i in 0..MAX_DEPTH + 5 {
            match Seq::new(vec![v]) {
                Ok(s) => v = Value::Tuple(s),
                Err(e) => {
                    assert_eq!(i, MAX_DEPTH);
                    assert!(e.contains("deeper than 1000"), "{e}");
                    return;
                }
            }
        }
        panic!("no depth error");
    }
}
