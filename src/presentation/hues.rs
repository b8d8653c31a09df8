//! Browse by hue: which objects' first image has at least [`SHARE`] of a hue, filled in as
//! colours become known (from a colours file at start-up, or extracted in the background).

use super::store::ObjectKey;
use crate::colors::{Colour, Hue};
use std::collections::BTreeSet;
use std::sync::RwLock;

/// The share of a first image's pixels a hue must have for its object to be listed.
pub const SHARE: f64 = 0.20;

/// Objects by hue, in key order.
#[derive(Debug, Default)]
pub struct HueIndex {
    lists: RwLock<Vec<BTreeSet<ObjectKey>>>,
    /// Objects whose first image's colours are known.
    known: RwLock<usize>,
}

impl HueIndex {
    /// Adds an object from its first image's colours: listed under every hue whose colours
    /// sum to at least [`SHARE`].
    pub fn add(&self, key: ObjectKey, colors: &[Colour]) {
        let mut lists = self.lists.write().unwrap_or_else(|e| e.into_inner());
        if lists.is_empty() {
            lists.resize(Hue::ALL.len(), BTreeSet::new());
        }
        for (i, hue) in Hue::ALL.iter().enumerate() {
            let share: f64 = colors
                .iter()
                .filter(|c| c.hue == *hue)
                .map(|c| c.percent)
                .sum();
            if share >= SHARE {
                lists[i].insert(key);
            }
        }
        *self.known.write().unwrap_or_else(|e| e.into_inner()) += 1;
    }

    /// The objects listed under a hue, in key order.
    pub fn objects(&self, hue: Hue) -> Vec<ObjectKey> {
        let lists = self.lists.read().unwrap_or_else(|e| e.into_inner());
        let i = Hue::ALL.iter().position(|h| *h == hue).unwrap_or(0);
        lists
            .get(i)
            .map(|l| l.iter().copied().collect())
            .unwrap_or_default()
    }

    /// How many objects' colours are known.
    pub fn known(&self) -> usize {
        *self.known.read().unwrap_or_else(|e| e.into_inner())
    }
}
