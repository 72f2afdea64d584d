//! The two points where a pickle reaches outside itself, both interpreted
//! symbolically: persistent ids (storages) and calls (the rebuilds of
//! tensors, parameters and `OrderedDict`; anything else stays opaque).

use std::rc::Rc;

use super::tensor::{self, Dtype, Storage};
use super::value::{Dict, Object, Seq, Value, short};

type R<T> = Result<T, String>;

/// `('storage', storage_type, key, location, numel)` (zip format) or with a
/// sixth item, the view metadata of the legacy format (which must be None).
pub(crate) fn persistent_load(pid: &Value) -> R<Value> {
    let Value::Tuple(t) = pid else {
        return Err(format!("persistent id is a {}", pid.kind()));
    };
    let items = t.items.borrow();
    let (tag, ty, key, numel) = match &items[..] {
        [tag, ty, key, _location, numel] => (tag, ty, key, numel),
        [tag, ty, key, _location, numel, Value::None] => (tag, ty, key, numel),
        [_, _, _, _, _, _] => return Err("storage views (legacy format) are not supported".into()),
        other => return Err(format!("persistent id of {} items", other.len())),
    };
    if !matches!(tag, Value::Str(s) if &**s == "storage") {
        return Err(format!("persistent id tagged {}", tag.kind()));
    }
    let dtype = match ty {
        Value::Global(g) => Dtype::from_storage(&g.0, &g.1),
        other => return Err(format!("storage type is a {}", other.kind())),
    };
    // The whole key: it names the entry to read (messages shorten it).
    let key = match key {
        Value::Str(s) => s.to_string(),
        Value::Int(i) => i.to_string(),
        other => return Err(format!("storage key is a {}", other.kind())),
    };
    let numel = match numel {
        Value::Int(n) if *n >= 0 => *n as u64,
        other => {
            return Err(format!(
                "storage {}: bad size ({})",
                short(&key),
                other.kind()
            ));
        }
    };
    Ok(Value::Storage(Rc::new(Storage { key, dtype, numel })))
}

/// A call: the rebuilds of `torch.save` are interpreted, anything else
/// becomes an opaque object. The arguments are borrowed, never copied.
/// `outer`: `_rebuild_from_type_v2` may wrap one rebuild, not another.
pub(crate) fn call(callable: Value, args: Rc<Seq>, outer: bool) -> R<Value> {
    let name = match &callable {
        Value::Global(g) => Some((g.0.as_str(), g.1.as_str())),
        _ => None,
    };
    let items = args.items.borrow();
    let v = match name {
        Some(("torch._utils", "_rebuild_tensor" | "_rebuild_tensor_v2")) => {
            Value::Tensor(Rc::new(tensor::rebuild(&items, None)))
        }
        Some(("torch._utils", "_rebuild_tensor_v3")) => {
            Value::Tensor(Rc::new(tensor::rebuild(&items, items.get(6))))
        }
        // Parameter(data, ...) and its rebuilds: the data tensor.
        Some(
            ("torch._utils", "_rebuild_parameter" | "_rebuild_parameter_with_state")
            | ("torch.nn.parameter", "Parameter"),
        ) if matches!(items.first(), Some(Value::Tensor(_))) => items[0].clone(),
        // _rebuild_from_type_v2(func, new_type, args, state): func(*args)
        // for a plain tensor or a Parameter.
        Some(("torch._utils", "_rebuild_from_type_v2")) if outer && items.len() == 4 => {
            match (&items[1], &items[2]) {
                (Value::Global(t), Value::Tuple(inner))
                    if matches!(
                        (t.0.as_str(), t.1.as_str()),
                        ("torch", "Tensor") | ("torch.nn.parameter", "Parameter")
                    ) =>
                {
                    call(items[0].clone(), inner.clone(), false)?
                }
                _ => {
                    drop(items);
                    Value::Object(Object::new(callable, Value::Tuple(args))?)
                }
            }
        }
        Some(("collections", "OrderedDict")) if items.is_empty() => Value::Dict(Dict::new(vec![])?),
        _ => {
            drop(items);
            return Ok(Value::Object(Object::new(callable, Value::Tuple(args))?));
        }
    };
    Ok(v)
}
