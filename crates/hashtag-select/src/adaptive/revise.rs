//! The revision step after each observation: drop tags whose yield is
//! confidently low, promote co-occurring tags, merge overlapping groups and
//! close groups that are done (see the parent module's overview).

use super::{AdaptiveLoop, Event, GroupStatus, TagStatus};
use crate::rules::{Provenance, Rule};

impl AdaptiveLoop {
    /// The group a possibly merged group id now belongs to (sightings and
    /// overlaps keep the ids they were recorded under).
    pub(super) fn root_group(&self, mut g: usize) -> usize {
        while let GroupStatus::MergedInto(h) = self.groups[g].status {
            g = h;
        }
        g
    }

    pub(super) fn drop_low_yield(&mut self) {
        let (prior, floor, min) = (
            self.config.prior,
            self.config.drop_below,
            self.config.min_crawled_to_drop,
        );
        // The best estimated yield per group, among tags with enough posts:
        // a tag far below its group's best is replaced by the better ones.
        let mut best = vec![0.0f64; self.groups.len()];
        for s in self.tags.values() {
            if s.crawled >= min && !matches!(s.status, TagStatus::Dropped(_)) {
                best[s.group] = best[s.group].max(s.yield_mean(prior));
            }
        }
        let relative = self.config.drop_relative;
        for (t, s) in self.tags.iter_mut() {
            let threshold = floor.max(relative * best[s.group]);
            if !s.is_open() || s.crawled < min || s.yield_upper(prior) >= threshold {
                continue;
            }
            let reason = s.drop_reason();
            s.status = TagStatus::Dropped(reason);
            self.events.push(Event::Dropped {
                round: self.round,
                tag: t.clone(),
                reason,
            });
        }
    }

    pub(super) fn promote(&mut self) {
        let mut sizes = vec![0usize; self.groups.len()];
        for s in self.tags.values() {
            sizes[s.group] += 1;
        }
        let mut promoted = Vec::new();
        for (t, by_group) in &self.sightings {
            let total: u64 = by_group.values().fold(0u64, |a, &b| a.saturating_add(b));
            let Some((&g, &n)) = by_group
                .iter()
                .max_by(|a, b| a.1.cmp(b.1).then(b.0.cmp(a.0)))
            else {
                continue;
            };
            if total == 0
                || n < self.config.promote_min_posts
                || (n as f64) < self.config.promote_min_share * total as f64
            {
                continue;
            }
            let g = self.root_group(g);
            if !self.groups[g].is_active() || sizes[g] >= self.config.max_tags_per_group {
                continue;
            }
            let gate_ok = match self.views.get(t) {
                Some(v) => self.config.gate.decide(Some(v), 0).passed(),
                None => self.config.promote_unknown_views,
            };
            if gate_ok {
                sizes[g] += 1;
                promoted.push((t.clone(), g, n as f64 / total as f64));
            }
        }
        for (t, g, share) in promoted {
            let from = self.groups[g].name.clone();
            self.insert_tag(
                &t,
                g,
                vec![Provenance {
                    rule: Rule::Cooccurrence,
                    from,
                }],
            );
            self.events.push(Event::Promoted {
                round: self.round,
                tag: t,
                group: g,
                share,
            });
        }
    }

    pub(super) fn merge_overlapping(&mut self) {
        let pairs: Vec<(usize, usize)> = self
            .overlap
            .keys()
            .copied()
            .filter(|&(a, b)| a < b)
            .collect();
        for (a, b) in pairs {
            let (a, b) = (self.root_group(a), self.root_group(b));
            if a == b {
                continue;
            }
            let frac = |x: usize, y: usize| {
                let c = self.groups[x].crawled;
                (c > 0).then(|| *self.overlap.get(&(x, y)).unwrap_or(&0) as f64 / c as f64)
            };
            let (Some(ab), Some(ba)) = (frac(a, b), frac(b, a)) else {
                continue;
            };
            if ab < self.config.merge_overlap || ba < self.config.merge_overlap {
                continue;
            }
            // The group with more clips keeps its name (ties: lower id).
            let (keep, gone) = if (self.groups[b].clips, std::cmp::Reverse(b))
                > (self.groups[a].clips, std::cmp::Reverse(a))
            {
                (b, a)
            } else {
                (a, b)
            };
            let moved = std::mem::take(&mut self.groups[gone].seed_labels);
            self.groups[keep].seed_labels.extend(moved);
            self.groups[keep].seed_labels.sort();
            self.groups[keep].seed_labels.dedup();
            self.groups[keep].clips = self.groups[keep]
                .clips
                .saturating_add(self.groups[gone].clips);
            self.groups[keep].crawled = self.groups[keep]
                .crawled
                .saturating_add(self.groups[gone].crawled);
            self.groups[gone].status = GroupStatus::MergedInto(keep);
            for s in self.tags.values_mut().filter(|s| s.group == gone) {
                s.group = keep;
                s.provenance.push(Provenance {
                    rule: Rule::Consolidation,
                    from: self.groups[keep].name.clone(),
                });
            }
            self.events.push(Event::Merged {
                round: self.round,
                kept: keep,
                merged: gone,
                overlap: ab.min(ba),
            });
        }
    }

    pub(super) fn update_group_status(&mut self) {
        for g in 0..self.groups.len() {
            if !self.groups[g].is_active() {
                continue;
            }
            let status = if self.groups[g].clips >= self.config.target_clips {
                GroupStatus::ReachedTarget
            } else if !self.tags.values().any(|s| s.group == g && s.is_open()) {
                GroupStatus::OutOfCandidates
            } else {
                continue;
            };
            self.groups[g].status = status;
            self.events.push(Event::GroupDone {
                round: self.round,
                group: g,
                status,
            });
        }
    }
}
