//! The deliveries a warm instance has completed recently, so that PagerDuty's repeats of them
//! are answered again without calling Devin. Bounded: the oldest is forgotten first. Only
//! completed deliveries are remembered, and those were all answered 202: the body is enough.

use std::collections::{HashMap, VecDeque};

/// About 400 bytes an entry (the event id and the answer): under half a megabyte when full.
/// PagerDuty's duplicates of a completed delivery come close together, and the session's tag
/// catches any older repeat.
pub const DEFAULT_CAPACITY: usize = 1024;

pub struct RecentDeliveries {
    capacity: usize,
    /// The body each completed delivery was answered with.
    answers: HashMap<String, String>,
    /// Event ids, oldest first.
    order: VecDeque<String>,
}

impl RecentDeliveries {
    pub fn new(capacity: usize) -> Self {
        RecentDeliveries {
            capacity,
            answers: HashMap::with_capacity(capacity.min(1024)),
            order: VecDeque::with_capacity(capacity.min(1024)),
        }
    }

    pub fn get(&self, event_id: &str) -> Option<&str> {
        self.answers.get(event_id).map(String::as_str)
    }

    pub fn remember(&mut self, event_id: &str, answer: String) {
        if self.capacity == 0 {
            return;
        }
        if self.answers.insert(event_id.to_owned(), answer).is_none() {
            self.order.push_back(event_id.to_owned());
        }
        while self.order.len() > self.capacity {
            if let Some(oldest) = self.order.pop_front() {
                self.answers.remove(&oldest);
            }
        }
    }

    pub fn len(&self) -> usize {
        self.answers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.answers.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(n: u16) -> String {
        n.to_string()
    }

    #[test]
    fn remembers_and_forgets_the_oldest_first() {
        let mut recent = RecentDeliveries::new(3);
        for n in 0..5u16 {
            recent.remember(&format!("E{n}"), answer(n));
        }
        assert_eq!(recent.len(), 3);
        assert_eq!(recent.get("E0"), None);
        assert_eq!(recent.get("E1"), None);
        assert_eq!(recent.get("E4"), Some("4"));
    }

    #[test]
    fn remembering_again_does_not_grow_it() {
        let mut recent = RecentDeliveries::new(2);
        recent.remember("E", answer(1));
        recent.remember("E", answer(2));
        recent.remember("F", answer(3));
        assert_eq!(recent.len(), 2);
        assert_eq!(recent.get("E"), Some("2"));
    }

    #[test]
    fn stays_bounded_over_many_deliveries() {
        let mut recent = RecentDeliveries::new(100);
        for n in 0..10_000 {
            recent.remember(&format!("E{n}"), answer(1));
        }
        assert_eq!((recent.len(), recent.order.len()), (100, 100));
    }
}
