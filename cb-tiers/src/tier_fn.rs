//! How a `#[fallback(..)]` expansion calls a tier, so that a tier whose
//! signature differs from tier 1's is one error in cb's words at the tier's
//! path.
//!
//! Called directly, a mismatched tier gets rustc's own errors about the call,
//! some with a suggested fix that is not valid Rust
//! (`ask_gpt(prompt, /* f32 */)`). Instead the expansion defines, per tier,
//! a trait carrying its message (`#[diagnostic::on_unimplemented]`) with two
//! implementations, one through [`TierFn`]`<_, _, `[`Fits`]`>` and one through
//! `TierFn<_, _, `[`Misfit`]`>`, and calls the tier through it. With two
//! candidates rustc cannot blame either implementation's bounds: when both
//! fail, it reports the tier's own trait, with cb's message. The call's
//! result is then unknown, so no second error follows.

use core::future::Future;

/// An `async fn` (or any function returning a future) that takes the
/// argument tuple `Args` and resolves to `R`: what every tier of one
/// `#[fallback(..)]` function is. Implemented for `Via = `[`Fits`] only.
pub trait TierFn<Args, R, Via> {
    /// The tier's future.
    type Fut: Future<Output = R>;

    /// Calls the tier with the arguments spread out.
    fn call(self, args: Args) -> Self::Fut;
}

/// The [`TierFn`] implementations' marker.
#[derive(Debug)]
pub enum Fits {}

/// A marker with no [`TierFn`] implementation: the second candidate that
/// makes a mismatched tier the tier trait's error (see the module docs).
#[derive(Debug)]
pub enum Misfit {}

macro_rules! tier_fn {
    ($($arg:ident)*) => {
        impl<Func, Fut, R, $($arg,)*> TierFn<($($arg,)*), R, Fits> for Func
        where
            Func: FnOnce($($arg),*) -> Fut,
            Fut: Future<Output = R>,
        {
            type Fut = Fut;

            #[allow(non_snake_case)]
            fn call(self, ($($arg,)*): ($($arg,)*)) -> Fut {
                self($($arg),*)
            }
        }
    };
}

// A method's `self` counts as an argument.
tier_fn!();
tier_fn!(A1);
tier_fn!(A1 A2);
tier_fn!(A1 A2 A3);
tier_fn!(A1 A2 A3 A4);
tier_fn!(A1 A2 A3 A4 A5);
tier_fn!(A1 A2 A3 A4 A5 A6);
tier_fn!(A1 A2 A3 A4 A5 A6 A7);
tier_fn!(A1 A2 A3 A4 A5 A6 A7 A8);
tier_fn!(A1 A2 A3 A4 A5 A6 A7 A8 A9);
tier_fn!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10);
tier_fn!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11);
tier_fn!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12);
tier_fn!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13);
tier_fn!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14);
tier_fn!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15);
tier_fn!(A1 A2 A3 A4 A5 A6 A7 A8 A9 A10 A11 A12 A13 A14 A15 A16);

#[cfg(test)]
mod tests {
    use super::*;

    async fn add(a: u32, b: &str) -> Result<u32, ()> {
        Ok(a + b.len() as u32)
    }

    fn spread<F: TierFn<Args, R, Fits>, Args, R>(f: F, args: Args) -> F::Fut {
        f.call(args)
    }

    #[tokio::test]
    async fn a_tier_is_called_with_its_arguments_spread_out() {
        assert_eq!(spread(add, (1, "ab")).await, Ok(3));
        assert_eq!(spread(|| async { 7 }, ()).await, 7);
    }
}
