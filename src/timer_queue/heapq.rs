//! CPython's `Lib/heapq.py` (and `_heapq.c`, which does the same), over
//! deadlines alone. Comments give the Python names.

use super::TimerEntry;

fn less(a: &TimerEntry, b: &TimerEntry) -> bool {
    a.when < b.when
}

/// `heappush`: append, then `_siftdown(heap, 0, len - 1)`.
pub fn push(heap: &mut Vec<TimerEntry>, item: TimerEntry) {
    heap.push(item);
    let last = heap.len() - 1;
    sift_down(heap, 0, last);
}

/// `heappop`: the last item replaces the root, then `_siftup(heap, 0)`.
pub fn pop(heap: &mut Vec<TimerEntry>) -> Option<TimerEntry> {
    let last = heap.pop()?;
    if heap.is_empty() {
        return Some(last);
    }
    let root = std::mem::replace(&mut heap[0], last);
    sift_up(heap, 0);
    Some(root)
}

/// `heapify`: `_siftup` every parent, last to first.
pub fn heapify(heap: &mut [TimerEntry]) {
    for pos in (0..heap.len() / 2).rev() {
        sift_up(heap, pos);
    }
}

/// `_siftdown(heap, startpos, pos)`: move the item at `pos` towards the
/// root while it is strictly less than its parent.
fn sift_down(heap: &mut [TimerEntry], start: usize, mut pos: usize) {
    while pos > start {
        let parent = (pos - 1) >> 1;
        if !less(&heap[pos], &heap[parent]) {
            break;
        }
        heap.swap(pos, parent);
        pos = parent;
    }
}

/// `_siftup(heap, pos)`: move the smaller child up until a leaf is
/// reached (the right child wins unless the left is strictly less), then
/// `_siftdown` the item from there.
fn sift_up(heap: &mut [TimerEntry], mut pos: usize) {
    let end = heap.len();
    let start = pos;
    let mut child = 2 * pos + 1;
    while child < end {
        let right = child + 1;
        if right < end && !less(&heap[child], &heap[right]) {
            child = right;
        }
        heap.swap(pos, child);
        pos = child;
        child = 2 * pos + 1;
    }
    sift_down(heap, start, pos);
}
