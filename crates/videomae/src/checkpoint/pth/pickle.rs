//! A pickle interpreter for what `torch.save` writes, protocols 0-5. It
//! executes nothing: `GLOBAL` names a class symbolically and a call of it
//! builds an opaque object, except the rebuilds of tensors, parameters and
//! `OrderedDict`, which are interpreted. Every opcode does work in
//! proportion to the bytes it reads or the items it pops, so time and
//! memory are linear in the pickle's length; lengths declared in the
//! stream are checked against the bytes left before anything is
//! allocated, and nesting is capped (see `value.rs`).

use std::collections::HashMap;
use std::rc::Rc;

use super::calls::{call, persistent_load};
use super::tensor::Storage;
use super::value::{Dict, MAX_DEPTH, Object, Seq, Value, drain, long, pairs, short};

/// A pickle read: the object, where the pickle ended (legacy files hold
/// several in a row), and every storage its persistent ids named.
pub(crate) struct Loaded {
    pub value: Value,
    pub end: usize,
    pub storages: Vec<Rc<Storage>>,
}

/// The longest pickle interpreted. Values cost up to ~100 bytes per
/// pickle byte (an empty list is a one-byte opcode), so this bounds the
/// interpreter's memory (to ~1.6 GB) also for a legacy file, whose pickle
/// length is known only at its end. A state dict with its optimizer state
/// takes a few hundred bytes per tensor: a megabyte or two.
pub(crate) const MAX_PICKLE: usize = 16 << 20;

/// Interprets the pickle at the start of `data` (at most [`MAX_PICKLE`]
/// bytes of it).
pub(crate) fn load(data: &[u8]) -> Result<Loaded, String> {
    let capped = data.len() > MAX_PICKLE;
    let mut m = Machine {
        data: &data[..data.len().min(MAX_PICKLE)],
        capped,
        pos: 0,
        stack: Vec::new(),
        marks: Vec::new(),
        memo: HashMap::new(),
        storages: Vec::new(),
    };
    let value = m.run().map_err(|e| format!("pickle byte {}: {e}", m.pos))?;
    Ok(Loaded {
        value,
        end: m.pos,
        storages: std::mem::take(&mut m.storages),
    })
}

struct Machine<'a> {
    data: &'a [u8],
    /// Whether `data` was cut at [`MAX_PICKLE`].
    capped: bool,
    pos: usize,
    stack: Vec<Value>,
    /// Stack lengths at each MARK.
    marks: Vec<usize>,
    memo: HashMap<u32, Value>,
    storages: Vec<Rc<Storage>>,
}

impl Drop for Machine<'_> {
    fn drop(&mut self) {
        let mut all = std::mem::take(&mut self.stack);
        all.extend(self.memo.drain().map(|(_, v)| v));
        drain(all);
    }
}

type R<T> = Result<T, String>;

fn le(b: &[u8]) -> u64 {
    b.iter().rev().fold(0, |a, &x| (a << 8) | x as u64)
}

impl<'a> Machine<'a> {
    fn take(&mut self, n: u64) -> R<&'a [u8]> {
        let left = (self.data.len() - self.pos) as u64;
        if n > left {
            return Err(self.past_end(format!("needs {n} bytes, {left} left")));
        }
        let s = &self.data[self.pos..self.pos + n as usize];
        self.pos += n as usize;
        Ok(s)
    }

    /// The error of a read past the end: `what`, or the limit when the
    /// pickle was cut there.
    fn past_end(&self, what: String) -> String {
        if self.capped {
            format!("the pickle is longer than the limit of {MAX_PICKLE} bytes")
        } else {
            what
        }
    }

    fn uint(&mut self, n: u64) -> R<u64> {
        Ok(le(self.take(n)?))
    }

    /// A text argument up to `\n` (protocol 0 forms).
    fn line(&mut self) -> R<&'a str> {
        let rest = &self.data[self.pos..];
        let end = rest
            .iter()
            .position(|&b| b == b'\n')
            .ok_or_else(|| self.past_end("unterminated line".into()))?;
        self.pos += end + 1;
        std::str::from_utf8(&rest[..end]).map_err(|_| "line is not UTF-8".into())
    }

    fn floor(&self) -> usize {
        self.marks.last().copied().unwrap_or(0)
    }

    fn push(&mut self, v: Value) {
        self.stack.push(v);
    }

    fn pop(&mut self) -> R<Value> {
        if self.stack.len() <= self.floor() {
            return Err("stack underflow".into());
        }
        Ok(self.stack.pop().expect("checked"))
    }

    fn top(&self) -> R<&Value> {
        if self.stack.len() <= self.floor() {
            return Err("stack underflow".into());
        }
        Ok(self.stack.last().expect("checked"))
    }

    fn pop_mark(&mut self) -> R<Vec<Value>> {
        let at = self.marks.pop().ok_or("no MARK")?;
        Ok(self.stack.split_off(at))
    }

    fn memo_get(&mut self, i: u64) -> R<()> {
        let v = u32::try_from(i)
            .ok()
            .and_then(|i| self.memo.get(&i))
            .ok_or_else(|| format!("memo {i} is not set"))?
            .clone();
        self.push(v);
        Ok(())
    }

    fn memo_put(&mut self, i: u64) -> R<()> {
        let i = u32::try_from(i).map_err(|_| format!("memo index {i}"))?;
        let v = self.top()?.clone();
        if let Some(old) = self.memo.insert(i, v) {
            drain(vec![old]);
        }
        Ok(())
    }

    fn str_value(b: &[u8]) -> R<Value> {
        let s = std::str::from_utf8(b).map_err(|_| "string is not UTF-8")?;
        Ok(Value::Str(s.into()))
    }

    fn tuple(items: Vec<Value>) -> R<Value> {
        Ok(Value::Tuple(Seq::new(items)?))
    }

    fn run(&mut self) -> R<Value> {
        loop {
            let op = self.take(1)?[0];
            match op {
                0x80 => {
                    let v = self.take(1)?[0];
                    if v > 5 {
                        return Err(format!("pickle protocol {v} (5 is the newest known)"));
                    }
                }
                // FRAME: a length hint; the bytes follow inline.
                0x95 => {
                    let n = self.uint(8)?;
                    if n > (self.data.len() - self.pos) as u64 {
                        return Err(self.past_end(format!("frame of {n} bytes past the end")));
                    }
                }
                b'.' => {
                    let v = self.pop()?;
                    return Ok(v);
                }
                b'(' => {
                    if self.marks.len() >= MAX_DEPTH as usize {
                        return Err(format!("more than {MAX_DEPTH} open MARKs"));
                    }
                    self.marks.push(self.stack.len());
                }
                b'0' => {
                    // POP on an empty frame discards the MARK (as CPython).
                    if self.stack.len() == self.floor() && !self.marks.is_empty() {
                        self.marks.pop();
                    } else {
                        let v = self.pop()?;
                        drain(vec![v]);
                    }
                }
                b'1' => {
                    let v = self.pop_mark()?;
                    drain(v);
                }
                b'2' => {
                    let v = self.top()?.clone();
                    self.push(v);
                }
                b'N' => self.push(Value::None),
                0x88 => self.push(Value::Bool(true)),
                0x89 => self.push(Value::Bool(false)),
                b'J' => {
                    let v = self.uint(4)? as u32 as i32;
                    self.push(Value::Int(v.into()));
                }
                b'K' => {
                    let v = self.uint(1)?;
                    self.push(Value::Int(v as i64));
                }
                b'M' => {
                    let v = self.uint(2)?;
                    self.push(Value::Int(v as i64));
                }
                0x8a | 0x8b => {
                    let n = if op == 0x8a {
                        self.uint(1)?
                    } else {
                        let n = self.uint(4)? as u32 as i32;
                        u64::try_from(n).map_err(|_| format!("LONG4 of length {n}"))?
                    };
                    let b = self.take(n)?;
                    self.push(long(b));
                }
                b'I' | b'L' => {
                    let line = self.line()?;
                    let t = line.strip_suffix('L').unwrap_or(line);
                    let v = match (op, t) {
                        (b'I', "00") => Value::Bool(false),
                        (b'I', "01") => Value::Bool(true),
                        _ => match t.parse::<i64>() {
                            Ok(i) => Value::Int(i),
                            Err(_) if t.bytes().all(|c| c.is_ascii_digit() || c == b'-') => {
                                Value::BigInt
                            }
                            Err(_) => return Err(format!("bad int {:?}", short(t))),
                        },
                    };
                    self.push(v);
                }
                b'G' => {
                    let b = self.take(8)?;
                    let v = f64::from_be_bytes(b.try_into().expect("8 bytes"));
                    let _ = v;
                    self.push(Value::Float);
                }
                b'F' => {
                    let line = self.line()?;
                    let v = line
                        .parse::<f64>()
                        .map_err(|_| format!("bad float {:?}", short(line)))?;
                    let _ = v;
                    self.push(Value::Float);
                }
                // Strings: 1-, 4- and 8-byte lengths.
                0x8c | b'X' | 0x8d | b'U' | b'T' | b'C' | b'B' | 0x8e | 0x96 => {
                    let width = match op {
                        0x8c | b'U' | b'C' => 1,
                        0x8d | 0x8e | 0x96 => 8,
                        _ => 4,
                    };
                    let n = self.uint(width)?;
                    let b = self.take(n)?;
                    let v = match op {
                        0x8c | b'X' | 0x8d => Self::str_value(b)?,
                        // Python 2 str: text when it is UTF-8.
                        b'U' | b'T' => Self::str_value(b).unwrap_or(Value::Bytes),
                        _ => Value::Bytes,
                    };
                    self.push(v);
                }
                b'S' | b'V' => {
                    let line = self.line()?;
                    let s = if op == b'S' {
                        let q = line.as_bytes().first().copied();
                        line.strip_prefix(['\'', '"'])
                            .and_then(|s| s.strip_suffix(q.map(char::from).unwrap_or('\'')))
                            .ok_or("bad STRING quotes")?
                    } else {
                        line
                    };
                    if s.contains('\\') {
                        return Err("escaped text strings are not supported".into());
                    }
                    self.push(Value::Str(s.into()));
                }
                b')' => self.push(Self::tuple(vec![])?),
                0x85..=0x87 => {
                    let n = (op - 0x84) as usize;
                    if self.stack.len() < self.floor() + n {
                        return Err("stack underflow".into());
                    }
                    let items = self.stack.split_off(self.stack.len() - n);
                    self.push(Self::tuple(items)?);
                }
                b't' => {
                    let items = self.pop_mark()?;
                    self.push(Self::tuple(items)?);
                }
                b']' => self.push(Value::List(Seq::new(vec![])?)),
                b'l' => {
                    let items = self.pop_mark()?;
                    self.push(Value::List(Seq::new(items)?));
                }
                b'}' => self.push(Value::Dict(Dict::new(vec![])?)),
                b'd' => {
                    let items = self.pop_mark()?;
                    let d = Dict::new(pairs(items)?)?;
                    self.push(Value::Dict(d));
                }
                0x8f => self.push(Value::Set(Seq::new(vec![])?)),
                0x91 => {
                    let items = self.pop_mark()?;
                    self.push(Value::Set(Seq::new(items)?));
                }
                b'a' => {
                    let v = self.pop()?;
                    self.append(vec![v])?;
                }
                b'e' | 0x90 => {
                    let items = self.pop_mark()?;
                    self.append(items)?;
                }
                b's' => {
                    let v = self.pop()?;
                    let k = self.pop()?;
                    self.set_items(vec![(k, v)])?;
                }
                b'u' => {
                    let items = self.pop_mark()?;
                    self.set_items(pairs(items)?)?;
                }
                b'g' => {
                    let i = self.line()?.parse::<u64>().map_err(|_| "bad GET index")?;
                    self.memo_get(i)?;
                }
                b'h' => {
                    let i = self.uint(1)?;
                    self.memo_get(i)?;
                }
                b'j' => {
                    let i = self.uint(4)?;
                    self.memo_get(i)?;
                }
                b'p' => {
                    let i = self.line()?.parse::<u64>().map_err(|_| "bad PUT index")?;
                    self.memo_put(i)?;
                }
                b'q' => {
                    let i = self.uint(1)?;
                    self.memo_put(i)?;
                }
                b'r' => {
                    let i = self.uint(4)?;
                    self.memo_put(i)?;
                }
                0x94 => {
                    let i = self.memo.len() as u64;
                    self.memo_put(i)?;
                }
                b'c' => {
                    let module = self.line()?.to_owned();
                    let name = self.line()?.to_owned();
                    self.push(Value::Global(Rc::new((module, name))));
                }
                0x93 => {
                    let name = self.pop()?;
                    let module = self.pop()?;
                    let (Value::Str(m), Value::Str(n)) = (&module, &name) else {
                        return Err("STACK_GLOBAL of non-strings".into());
                    };
                    self.push(Value::Global(Rc::new((m.to_string(), n.to_string()))));
                }
                b'R' | 0x81 => {
                    let args = self.pop()?;
                    let callable = self.pop()?;
                    let Value::Tuple(args) = args else {
                        return Err(format!("call arguments are a {}", args.kind()));
                    };
                    let v = call(callable, args, true)?;
                    self.push(v);
                }
                0x92 => {
                    let kwargs = self.pop()?;
                    let args = self.pop()?;
                    let cls = self.pop()?;
                    let args = Self::tuple(vec![args, kwargs])?;
                    self.push(Value::Object(Object::new(cls, args)?));
                }
                b'i' => {
                    let module = self.line()?.to_owned();
                    let name = self.line()?.to_owned();
                    let args = Self::tuple(self.pop_mark()?)?;
                    let cls = Value::Global(Rc::new((module, name)));
                    self.push(Value::Object(Object::new(cls, args)?));
                }
                b'o' => {
                    let mut items = self.pop_mark()?;
                    if items.is_empty() {
                        return Err("OBJ without a class".into());
                    }
                    let cls = items.remove(0);
                    let args = Self::tuple(items)?;
                    self.push(Value::Object(Object::new(cls, args)?));
                }
                b'b' => {
                    let state = self.pop()?;
                    match self.top()? {
                        Value::Object(o) => o.absorb(state)?,
                        // A dict's state is its attributes (`_metadata` of a
                        // state dict); a tensor's is a Parameter's extras.
                        _ => drain(vec![state]),
                    }
                }
                b'Q' => {
                    let pid = self.pop()?;
                    let v = persistent_load(&pid);
                    drain(vec![pid]);
                    let v = v?;
                    if let Value::Storage(s) = &v {
                        self.storages.push(s.clone());
                    }
                    self.push(v);
                }
                b'P' => return Err("text persistent ids are not written by torch.save".into()),
                0x82..=0x84 => return Err("extension registry codes are not supported".into()),
                0x97 => return Err("out-of-band buffers are not supported".into()),
                0x98 => {
                    self.top()?;
                }
                _ => return Err(format!("unknown opcode {op:#04x}")),
            }
        }
    }

    fn append(&mut self, items: Vec<Value>) -> R<()> {
        match self.top()? {
            Value::List(l) | Value::Set(l) => {
                let l = l.clone();
                for v in items {
                    l.push(v)?;
                }
                Ok(())
            }
            Value::Object(o) => {
                let o = o.clone();
                for v in items {
                    o.absorb(v)?;
                }
                Ok(())
            }
            other => Err(format!("APPEND to a {}", other.kind())),
        }
    }

    fn set_items(&mut self, items: Vec<(Value, Value)>) -> R<()> {
        match self.top()? {
            Value::Dict(d) => {
                let d = d.clone();
                for (k, v) in items {
                    d.insert(k, v)?;
                }
                Ok(())
            }
            Value::Object(o) => {
                let o = o.clone();
                for (k, v) in items {
                    o.absorb(k)?;
                    o.absorb(v)?;
                }
                Ok(())
            }
            other => Err(format!("SETITEM on a {}", other.kind())),
        }
    }
}
