//! CPython's `heapq` (the C `_heapq` module), for `PriorityQueue`, with a
//! comparison that may fail as Python's `<` may.
//!
//! Transcribed as the C code swaps, so a comparison that raises halfway
//! leaves the list exactly as CPython leaves it: the pushed item stays in
//! the list (`heappush` appended it first), and `heappop` has already taken
//! the last item to the root and lost the smallest one.

use crate::error::Error;
use crate::value::Value;

/// Python's `a < b`, which may raise (`TypeError`).
pub type PyLt<T> = fn(&T, &T) -> Result<bool, Error>;

/// A scenario value as Python compares it: integers with integers,
/// strings with strings (by code point); anything else is Python's
/// `TypeError`, naming the left operand's type first.
pub fn value_lt(a: &Value, b: &Value) -> Result<bool, Error> {
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x < y),
        (Value::Str(x), Value::Str(y)) => Ok(x < y), // UTF-8 orders as code points
        _ => Err(Error::Type(
            format!(
                "'<' not supported between instances of '{}' and '{}'",
                type_name(a),
                type_name(b)
            )
            .into(),
        )),
    }
}

fn type_name(v: &Value) -> &'static str {
    match v {
        Value::Int(_) => "int",
        Value::Str(_) => "str",
        Value::None => "NoneType",
        // A Rust value (scenarios never make one).
        Value::Debug(_) => "object",
    }
}

/// `heapq.heappush(heap, item)`.
pub(crate) fn push<T>(
    heap: &mut Vec<T>,
    item: T,
    lt: impl Fn(&T, &T) -> Result<bool, Error>,
) -> Result<(), Error> {
    heap.push(item);
    let last = heap.len() - 1;
    sift_down(heap, 0, last, &lt)
}

/// `heapq.heappop(heap)`; `None` when empty (Python's `IndexError`).
pub(crate) fn pop<T>(
    heap: &mut Vec<T>,
    lt: impl Fn(&T, &T) -> Result<bool, Error>,
) -> Option<Result<T, Error>> {
    let last = heap.pop()?;
    if heap.is_empty() {
        return Some(Ok(last));
    }
    let top = std::mem::replace(&mut heap[0], last);
    Some(sift_up(heap, 0, &lt).map(|()| top))
}

/// `_siftdown(heap, startpos, pos)`: moves the item at `pos` up towards
/// `startpos` while it is smaller than its parent.
fn sift_down<T>(
    heap: &mut [T],
    start: usize,
    mut pos: usize,
    lt: &impl Fn(&T, &T) -> Result<bool, Error>,
) -> Result<(), Error> {
    while pos > start {
        let parent = (pos - 1) >> 1;
        if !lt(&heap[pos], &heap[parent])? {
            break;
        }
        heap.swap(pos, parent);
        pos = parent;
    }
    Ok(())
}

/// `_siftup(heap, pos)`: moves the smaller child up until a leaf, then
/// sifts the item down into place.
fn sift_up<T>(
    heap: &mut [T],
    mut pos: usize,
    lt: &impl Fn(&T, &T) -> Result<bool, Error>,
) -> Result<(), Error> {
    let end = heap.len();
    let start = pos;
    let limit = end >> 1;
    while pos < limit {
        let mut child = 2 * pos + 1;
        if child + 1 < end && !lt(&heap[child], &heap[child + 1])? {
            child += 1;
        }
        heap.swap(child, pos);
        pos = child;
    }
    sift_down(heap, start, pos, lt)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_order_and_mixed_types_raise_as_python() {
        let mut heap = Vec::new();
        for v in [5, 1, 4, 1, 3] {
            push(&mut heap, v, |a: &i32, b: &i32| Ok(a < b)).unwrap();
        }
        let order: Vec<i32> = std::iter::from_fn(|| pop(&mut heap, |a: &i32, b: &i32| Ok(a < b)))
            .map(Result::unwrap)
            .collect();
        assert_eq!(order, [1, 1, 3, 4, 5]);

        let mut heap = vec![Value::Int(1)];
        let err = push(&mut heap, Value::Str("a".into()), value_lt).unwrap_err();
        assert_eq!(
            err.to_string(),
            "'<' not supported between instances of 'str' and 'int'"
        );
        assert_eq!(heap.len(), 2, "the item stays queued");
    }
}
