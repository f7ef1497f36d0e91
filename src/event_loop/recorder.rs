//! Where a world's events go: kept for [`EventLoop::trace`], or handed one
//! by one to a sink as they are recorded (`loopsim run` writes each to its
//! output at once), so that a run's memory does not grow with its trace.
//!
//! Either way the recorder counts the events (the event budget, `check`'s
//! `N events`) and keeps the first failure (`check_failed`,
//! `invariant_violated`, `budget`): what a run's outcome needs of a trace
//! it did not keep.
//!
//! [`EventLoop::trace`]: super::EventLoop::trace

use crate::trace::Event;

/// What a streamed run does with each event (see
/// [`EventLoop::stream_trace`](super::EventLoop::stream_trace)).
pub type EventSink = Box<dyn FnMut(&Event)>;

#[derive(Default)]
pub(crate) struct Recorder {
    /// The events, unless a sink takes them.
    kept: Vec<Event>,
    sink: Option<EventSink>,
    /// Events recorded so far, kept or not.
    count: u64,
    first_failure: Option<Event>,
}

impl Recorder {
    /// Events recorded so far.
    #[inline]
    pub fn len(&self) -> u64 {
        self.count
    }

    #[inline]
    pub fn push(&mut self, event: Event) {
        self.count += 1;
        if self.first_failure.is_none() && event.kind.is_failure() {
            self.first_failure = Some(event.clone());
        }
        match &mut self.sink {
            None => self.kept.push(event),
            Some(sink) => sink(&event),
        }
    }

    /// From now on events go to `sink`; those kept so far go first.
    pub fn stream(&mut self, mut sink: EventSink) {
        for event in self.kept.drain(..) {
            sink(&event);
        }
        self.kept = Vec::new();
        self.sink = Some(sink);
    }

    /// The kept events (none while streaming).
    pub fn kept(&self) -> &[Event] {
        &self.kept
    }

    /// Takes the kept events, leaving none (the count stays).
    pub fn take(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.kept)
    }

    pub fn first_failure(&self) -> Option<&Event> {
        self.first_failure.as_ref()
    }
}
