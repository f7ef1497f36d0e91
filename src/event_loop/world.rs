//! What sibling loops share: one virtual clock, one trace, one seed.
//!
//! asyncio's loops all read `time.monotonic()`, so loops made with
//! [`EventLoop::new_event_loop`](crate::EventLoop::new_event_loop) share this
//! world: the same clock, the same trace (events of all loops interleaved in
//! the order they happened) and the same seeded streams.

use crate::event_loop::LoopConfig;
use crate::invariant::Checker;
use crate::rng::{SeededRng, Stream};
use crate::trace::Event;
use std::cell::{Cell, RefCell};

pub(crate) struct World {
    /// Virtual time in nanoseconds.
    pub clock: Cell<i64>,
    /// The next handle sequence number.
    next_seq: Cell<u64>,
    pub trace: RefCell<Vec<Event>>,
    pub program_rng: RefCell<SeededRng>,
    pub tie_rng: RefCell<SeededRng>,
    pub jitter_rng: RefCell<SeededRng>,
    /// The invariant checker, fed what the loops report.
    pub checker: RefCell<Option<Checker>>,
    pub config: LoopConfig,
    /// How many loops of this world exist (loop ids).
    pub loops_made: Cell<u32>,
}

impl World {
    pub fn new(config: LoopConfig) -> World {
        World {
            clock: Cell::new(config.start_time.as_nanos()),
            next_seq: Cell::new(0),
            trace: RefCell::new(Vec::new()),
            program_rng: RefCell::new(SeededRng::new(config.seed, Stream::Program)),
            tie_rng: RefCell::new(SeededRng::new(config.seed, Stream::TieBreak)),
            jitter_rng: RefCell::new(SeededRng::new(config.seed, Stream::Jitter)),
            checker: RefCell::new(
                config
                    .check_invariants
                    .then(|| Checker::for_policy(config.tie_break)),
            ),
            config,
            loops_made: Cell::new(0),
        }
    }

    /// The key that orders a timer among equal deadlines under `random`.
    pub fn tie_break_key(&self) -> u64 {
        #[cfg(feature = "mutants")]
        if self.config.mutant == Some(crate::mutant::Mutant::UnseededRandomTies) {
            // The bug: a fixed stream instead of the seed's.
            let n = self.next_seq.get();
            return n.wrapping_mul(0x9E37_79B9_7F4A_7C15).rotate_left(17);
        }
        self.tie_rng.borrow_mut().next_u64()
    }

    pub fn next_seq(&self) -> u64 {
        let seq = self.next_seq.get();
        self.next_seq.set(seq + 1);
        seq
    }
}
