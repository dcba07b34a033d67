//! What a declared macro function runs: [`Declared::stages`].

use super::declared::{Declared, RUNNING};
use crate::macro_support::{StageSpec, planned_stages};

impl Declared {
    /// The stages the function really runs, outermost first. After its
    /// first call, what that call built (its template, environment, file,
    /// variables and arguments decided them); before it, what it will
    /// build: the same resolution through the current layers and the same
    /// decision as the pipeline's, so the answer does not change with the
    /// first call. Functions without a pipeline of their own (blocking,
    /// generic, tier chains, `#[tiered]`) answer what their attributes
    /// wrote ([`policies`](Self::policies)), as do functions whose argument
    /// types name `Self` (their replayability cannot be asked before the
    /// first call).
    ///
    /// The stages are fixed at the first call: a later update or reload
    /// changes their values (a breaker's settings, say) but does not add or
    /// remove a stage.
    ///
    /// ```
    /// // For `#[circuit_breaker(template = "ai_provider")] async fn ask(prompt: String)`,
    /// // before and after its first call: ["retry", "breaker", "timeout", "bulkhead"]
    /// for d in cb_core::registry::declared() {
    ///     let _ = d.stages();
    /// }
    /// ```
    pub fn stages(&self) -> Vec<&'static str> {
        let rescue = self.policies.first().filter(|p| **p == "rescue").copied();
        let running = RUNNING.get(self.name).or_else(|| {
            let s = self.stages?;
            let spec = StageSpec {
                retry: s.retry,
                retry_rejections: false,
                bulkhead: s.bulkhead,
                call_timeout: s.call_timeout,
                replayable: (s.replayable)(),
            };
            let code = self.code.map(|code| code()).unwrap_or_default();
            Some(planned_stages(self.name, code, self.code_template, &spec))
        });
        match running {
            Some(stages) => rescue.into_iter().chain(stages.iter().copied()).collect(),
            None => self.policies.to_vec(),
        }
    }
}
