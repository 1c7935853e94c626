//! Spinners on stderr while destinations run: one line per destination naming its current
//! step, cleared before the report is printed. Only made when [`crate::term::Term`] allows
//! progress (both streams are terminals, neither `-q` nor `-v`) and the format is human.

use crate::diagnose::ProgressFn;
use crate::term::sanitize;
use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// More destinations than this share one spinner: a line each would not fit a screen.
const MAX_LINES: usize = 12;

pub struct Spinners {
    multi: MultiProgress,
    /// Per destination name; empty when they share `shared`.
    bars: Arc<HashMap<String, ProgressBar>>,
    shared: Option<ProgressBar>,
}

impl Spinners {
    pub fn start(names: &[String]) -> Spinners {
        let multi = MultiProgress::with_draw_target(ProgressDrawTarget::stderr());
        let style = ProgressStyle::with_template("{spinner} {prefix} {wide_msg}")
            .unwrap_or_else(|_| ProgressStyle::default_spinner());
        let bar = |prefix: String| {
            let pb = multi.add(ProgressBar::new_spinner());
            pb.set_style(style.clone());
            pb.set_prefix(prefix);
            pb.set_message("waiting");
            pb.enable_steady_tick(Duration::from_millis(120));
            pb
        };
        if names.len() > MAX_LINES {
            let shared = bar(format!("diagnosing {} destinations:", names.len()));
            return Spinners {
                multi,
                bars: Arc::new(HashMap::new()),
                shared: Some(shared),
            };
        }
        let width = names.iter().map(|n| n.chars().count()).max().unwrap_or(0);
        let bars = names
            .iter()
            .map(|n| {
                let shown = sanitize(n, false);
                (n.clone(), bar(format!("{shown:<width$}")))
            })
            .collect();
        Spinners {
            multi,
            bars: Arc::new(bars),
            shared: None,
        }
    }

    /// The callback for [`crate::diagnose::Options::progress`].
    pub fn progress(&self) -> ProgressFn {
        let bars = self.bars.clone();
        let shared = self.shared.clone();
        Arc::new(move |name: &str, step: &str| {
            let step = sanitize(step, false);
            if let Some(pb) = bars.get(name) {
                pb.set_message(step);
            } else if let Some(pb) = &shared {
                pb.set_message(format!("{}: {step}", sanitize(name, false)));
            }
        })
    }

    /// A destination has finished.
    pub fn done(&self, name: &str) {
        if let Some(pb) = self.bars.get(name) {
            pb.set_message("done");
            pb.disable_steady_tick();
        }
    }

    /// Removes every spinner line, before the report is written.
    pub fn clear(self) {
        for pb in self.bars.values().chain(self.shared.iter()) {
            pb.finish_and_clear();
        }
        let _ = self.multi.clear();
    }
}
