//! The rules between fields ("max delay >= base delay"): which fields each
//! relates, when it applies and what it says when broken. The runtime checks
//! them on resolved settings and the macros on the arguments written, with
//! one message, so a mistake reads the same wherever it is caught.

use std::fmt;
use std::time::Duration;

use crate::duration::format;

/// What a checker knows of one field's value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fact<'a> {
    /// Not known where the rule is checked: a macro sees only the arguments
    /// written, not the template, file or variables that may set the rest.
    Unknown,
    /// An optional field that is not set.
    Unset,
    /// A duration.
    Duration(Duration),
    /// An integer.
    Count(u64),
    /// A boolean.
    Bool(bool),
    /// A name, such as a detector.
    Name(&'a str),
    /// Set to a value no rule compares (a number, a jitter, ...).
    Set,
}

/// A condition under which a rule applies.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum When {
    /// This boolean field is `true`.
    On(&'static str),
    /// This optional field is set.
    Set(&'static str),
    /// This field holds this name (e.g. `circuit_type` is `time_based`).
    Is(&'static str, &'static str),
}

impl When {
    /// `false` only when the facts show the condition does not hold: an
    /// unknown value may still turn out to satisfy it.
    fn may_hold<'a>(self, fact: &impl Fn(&str) -> Fact<'a>) -> bool {
        match self {
            When::On(path) => !matches!(fact(path), Fact::Bool(false) | Fact::Unset),
            When::Set(path) => fact(path) != Fact::Unset,
            When::Is(path, name) => match fact(path) {
                Fact::Name(n) => n == name,
                Fact::Unknown => true,
                _ => false,
            },
        }
    }
}

/// What the rule's field is compared with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Bound {
    /// Another duration field.
    Field(&'static str),
    /// 1 ms for each unit counted by an integer field (`unit` names one).
    MillisPer {
        /// The integer field.
        count: &'static str,
        /// What it counts, singular (`bucket`).
        unit: &'static str,
    },
}

/// How the rule's field must compare with its bound.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Order {
    /// `>=`.
    AtLeast,
    /// `<`.
    Below,
}

/// One rule between fields.
#[derive(Debug)]
pub struct Rule {
    /// The duration field that breaks the rule, where it is reported.
    pub field: &'static str,
    /// How it must compare with [`Rule::bound`].
    pub order: Order,
    /// What it is compared with.
    pub bound: Bound,
    /// When the rule applies (all must hold).
    pub when: &'static [When],
    /// Why, appended to the message; empty when the rule speaks for itself.
    pub why: &'static str,
}

/// A broken rule: `field = value: requirement`, as a configuration
/// violation prints it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Broken {
    /// The field to change.
    pub field: &'static str,
    /// Its value, as files write it.
    pub value: String,
    /// What it must be, with the bound's value and why.
    pub requirement: String,
}

impl fmt::Display for Broken {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}: {}", self.field, self.value, self.requirement)
    }
}

impl Rule {
    /// Every field the rule reads: its own, its bound's and its conditions'.
    pub fn fields(&self) -> impl Iterator<Item = &'static str> + '_ {
        let bound = match self.bound {
            Bound::Field(f) | Bound::MillisPer { count: f, .. } => f,
        };
        [self.field, bound]
            .into_iter()
            .chain(self.when.iter().map(|w| match *w {
                When::On(f) | When::Set(f) | When::Is(f, _) => f,
            }))
    }

    /// Checks the rule against `fact` (a field's path → what is known of
    /// it). A rule whose compared values are not both known is not judged;
    /// one whose conditions are unknown is judged as if they held.
    pub fn check<'a>(&self, fact: impl Fn(&str) -> Fact<'a>) -> Option<Broken> {
        if !self.when.iter().all(|w| w.may_hold(&fact)) {
            return None;
        }
        let Fact::Duration(value) = fact(self.field) else {
            return None;
        };
        let (bound, requirement) = match self.bound {
            Bound::Field(other) => {
                let Fact::Duration(d) = fact(other) else {
                    return None;
                };
                (d, format!("{} {other} ({})", self.order.symbol(), format(d)))
            }
            Bound::MillisPer { count, unit } => {
                let Fact::Count(n) = fact(count) else {
                    return None;
                };
                let sym = self.order.symbol();
                (
                    Duration::from_millis(n),
                    format!("{sym} 1ms per {unit} ({n} {unit}s => {sym} {n}ms)"),
                )
            }
        };
        let holds = match self.order {
            Order::AtLeast => value >= bound,
            Order::Below => value < bound,
        };
        if holds {
            return None;
        }
        let mut requirement = format!("must be {requirement}");
        if !self.why.is_empty() {
            requirement = format!("{requirement}: {}", self.why);
        }
        Some(Broken {
            field: self.field,
            value: format(value),
            requirement,
        })
    }
}

impl Order {
    fn symbol(self) -> &'static str {
        match self {
            Order::AtLeast => ">=",
            Order::Below => "<",
        }
    }
}

/// Every rule between fields, in the order violations are reported.
pub static RULES: &[Rule] = &[
    Rule {
        field: "max_open_duration",
        order: Order::AtLeast,
        bound: Bound::Field("open_duration"),
        when: &[],
        why: "",
    },
    Rule {
        field: "window_duration",
        order: Order::AtLeast,
        bound: Bound::MillisPer {
            count: "window_buckets",
            unit: "bucket",
        },
        when: &[When::Is("circuit_type", "time_based")],
        why: "",
    },
    Rule {
        field: "slow_call_duration_threshold",
        order: Order::Below,
        bound: Bound::Field("call_timeout.duration"),
        when: &[
            When::On("call_timeout.enabled"),
            When::Set("slow_call_rate_threshold"),
        ],
        why: "a call is cut off at its timeout, so it could never count as slow",
    },
    Rule {
        field: "retry.max_delay",
        order: Order::AtLeast,
        bound: Bound::Field("retry.base_delay"),
        when: &[],
        why: "",
    },
    Rule {
        field: "bulkhead.queue_timeout",
        order: Order::Below,
        bound: Bound::Field("call_timeout.duration"),
        when: &[When::On("bulkhead.enabled"), When::On("call_timeout.enabled")],
        why: "the queue wait counts toward the call's timeout (R61)",
    },
    Rule {
        field: "health_check.timeout",
        order: Order::Below,
        bound: Bound::Field("health_check.interval"),
        when: &[],
        why: "",
    },
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::schema::{Kind, field};

    #[test]
    fn rules_name_fields_of_the_table() {
        for rule in RULES {
            for path in rule.fields() {
                assert!(field(path).is_some(), "{path}");
            }
            assert!(matches!(
                field(rule.field).map(|f| f.kind),
                Some(Kind::Duration { .. })
            ));
        }
    }

    #[test]
    fn unknown_conditions_are_judged_but_unknown_values_are_not() {
        let slow = &RULES[2];
        let written = |p: &str| match p {
            "slow_call_duration_threshold" => Fact::Duration(Duration::from_secs(30)),
            "call_timeout.duration" => Fact::Duration(Duration::from_secs(10)),
            "call_timeout.enabled" => Fact::Bool(true),
            _ => Fact::Unknown,
        };
        assert_eq!(
            slow.check(written).unwrap().to_string(),
            "slow_call_duration_threshold = 30s: must be < call_timeout.duration (10s): a call is cut off \
             at its timeout, so it could never count as slow"
        );
        let off = |p: &str| match p {
            "slow_call_rate_threshold" => Fact::Unset,
            other => written(other),
        };
        assert_eq!(slow.check(off), None);
        let half = |p: &str| match p {
            "call_timeout.duration" => Fact::Unknown,
            other => written(other),
        };
        assert_eq!(slow.check(half), None);
    }

    #[test]
    fn buckets_need_a_millisecond_each() {
        let facts = |p: &str| match p {
            "window_duration" => Fact::Duration(Duration::from_millis(5)),
            "window_buckets" => Fact::Count(10),
            "circuit_type" => Fact::Name("time_based"),
            _ => Fact::Unknown,
        };
        assert_eq!(
            RULES[1].check(facts).unwrap().to_string(),
            "window_duration = 5ms: must be >= 1ms per bucket (10 buckets => >= 10ms)"
        );
    }
}
