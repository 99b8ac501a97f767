//! Expiry bookkeeping: flows (slab indices) in, the flows whose deadline has
//! passed out, in O(1) per operation.
//!
//! Every flow sits in exactly one intrusive doubly linked list, one per
//! [`TimerClass`]. All flows in a list have deadlines "time + the same
//! delay", so appending at the tail keeps each list ordered by deadline:
//! idle classes move a flow to the tail on every packet (its deadline is
//! last time + timeout); fixed classes (TCP attempt, close, reset) are
//! appended once. Expiry and eviction only look at the list heads, whose
//! deadlines are cached here. Packet timestamps that go backwards can leave a
//! list slightly out of order; such a flow expires when it reaches the head
//! (or when its own next packet finds it due), never early.
#![deny(clippy::indexing_slicing)]

/// No flow (end of a list).
pub(crate) const NIL: u32 = u32::MAX;

/// Which timer decides when a flow is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TimerClass {
    UdpIdle = 0,
    IcmpIdle = 1,
    OtherIdle = 2,
    /// TCP before the handshake is past.
    TcpHandshakeIdle = 3,
    TcpIdle = 4,
    /// Originator's SYN unanswered: `tcp_attempt_delay` after it.
    TcpAttempt = 5,
    /// Close complete: `tcp_close_delay` after the last time.
    TcpClosing = 6,
    /// RST after own FIN: `tcp_reset_delay` after it.
    TcpResetDelay = 7,
}

pub(crate) const CLASS_COUNT: usize = 8;

impl TimerClass {
    /// The deadline is fixed when entering the class (not refreshed by packets).
    pub fn is_fixed(self) -> bool {
        matches!(
            self,
            TimerClass::TcpAttempt | TimerClass::TcpClosing | TimerClass::TcpResetDelay
        )
    }
}

/// List membership of one flow.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Links {
    pub prev: u32,
    pub next: u32,
    pub class: TimerClass,
}

impl Default for Links {
    fn default() -> Self {
        Links {
            prev: NIL,
            next: NIL,
            class: TimerClass::OtherIdle,
        }
    }
}

/// Something kept in the timer lists.
pub(crate) trait Timed {
    fn links(&self) -> &Links;
    fn links_mut(&mut self) -> &mut Links;
    fn deadline(&self) -> i64;
}

/// Heads, tails and head deadlines of the lists.
#[derive(Debug, Clone)]
pub(crate) struct TimerLists {
    head: [u32; CLASS_COUNT],
    tail: [u32; CLASS_COUNT],
    head_deadline: [i64; CLASS_COUNT],
}

impl Default for TimerLists {
    fn default() -> Self {
        TimerLists {
            head: [NIL; CLASS_COUNT],
            tail: [NIL; CLASS_COUNT],
            head_deadline: [i64::MAX; CLASS_COUNT],
        }
    }
}

fn slot<T>(slab: &mut [T], idx: u32) -> Option<&mut T> {
    slab.get_mut(idx as usize)
}

impl TimerLists {
    /// Appends flow `idx` (not in any list) to the tail of `class`.
    pub fn push_back<T: Timed>(&mut self, slab: &mut [T], idx: u32, class: TimerClass) {
        let c = class as usize;
        let (Some(&tail), Some(deadline)) = (
            self.tail.get(c),
            slab.get(idx as usize).map(Timed::deadline),
        ) else {
            return;
        };
        if let Some(f) = slot(slab, idx) {
            *f.links_mut() = Links {
                prev: tail,
                next: NIL,
                class,
            };
        }
        if tail == NIL {
            if let (Some(h), Some(d)) = (self.head.get_mut(c), self.head_deadline.get_mut(c)) {
                *h = idx;
                *d = deadline;
            }
        } else if let Some(t) = slot(slab, tail) {
            t.links_mut().next = idx;
        }
        if let Some(t) = self.tail.get_mut(c) {
            *t = idx;
        }
    }

    /// Removes flow `idx` from its list.
    pub fn unlink<T: Timed>(&mut self, slab: &mut [T], idx: u32) {
        let Some(links) = slab.get(idx as usize).map(|f| *f.links()) else {
            return;
        };
        let c = links.class as usize;
        if links.prev == NIL {
            if self.head.get(c) != Some(&idx) {
                return; // not linked
            }
            let next_deadline = slab
                .get(links.next as usize)
                .map_or(i64::MAX, Timed::deadline);
            if let (Some(h), Some(d)) = (self.head.get_mut(c), self.head_deadline.get_mut(c)) {
                *h = links.next;
                *d = next_deadline;
            }
        } else if let Some(p) = slot(slab, links.prev) {
            p.links_mut().next = links.next;
        }
        if links.next == NIL {
            if let Some(t) = self.tail.get_mut(c) {
                *t = links.prev;
            }
        } else if let Some(n) = slot(slab, links.next) {
            n.links_mut().prev = links.prev;
        }
        if let Some(f) = slot(slab, idx) {
            let l = f.links_mut();
            l.prev = NIL;
            l.next = NIL;
        }
    }

    /// Whether `idx` is the tail of its class (touching it changes nothing).
    pub fn is_tail(&self, class: TimerClass, idx: u32) -> bool {
        self.tail.get(class as usize) == Some(&idx)
    }

    /// Refreshes the cached deadline of `idx` when it heads its list.
    pub fn deadline_changed<T: Timed>(&mut self, slab: &[T], idx: u32) {
        let Some(f) = slab.get(idx as usize) else {
            return;
        };
        let c = f.links().class as usize;
        if self.head.get(c) == Some(&idx) {
            if let Some(d) = self.head_deadline.get_mut(c) {
                *d = f.deadline();
            }
        }
    }

    /// The head with the earliest deadline, if any list is non-empty.
    pub fn earliest(&self) -> Option<(u32, i64)> {
        let mut best: Option<(u32, i64)> = None;
        for (&h, &d) in self.head.iter().zip(self.head_deadline.iter()) {
            if h != NIL && best.is_none_or(|(_, bd)| d < bd) {
                best = Some((h, d));
            }
        }
        best
    }

    /// The head with the earliest deadline at or before `now`.
    pub fn due(&self, now: i64) -> Option<u32> {
        self.earliest().filter(|&(_, d)| d <= now).map(|(h, _)| h)
    }
}
