//! Policies: the implementations of the platform core's decisions
//! ([`crate::platform::decisions`]), one folder per decision and one file
//! per policy.
//!
//! Each decision's folder owns its configuration: a table tagged by `kind`
//! (`[placement] kind = "random"`), declared with [`decision!`] as a list of
//! `kind = Policy(its Config)` lines. The macro derives the enum, its
//! parsing with key paths, its validation (an exhaustive match: a policy
//! whose `Config` does not implement [`Validate`] does not compile) and its
//! `build()`. A policy's file holds its `Config` (keys, defaults, checks),
//! the [`Build`] that turns it into the decision's trait object, and the
//! policy itself, with the paper or system it comes from cited in its doc
//! comment.
//!
//! Adding a policy: write its file, then add `mod file;` and one line to
//! its decision's `decision!` list.
//!
//! [`Validate`]: crate::cfg::Validate

pub mod eviction;
pub mod keepalive;
pub mod placement;
pub mod snapshot_cache;

/// Turns a policy's configuration into the decision it makes, given what
/// the run knows when it builds it (`Ctx`: host count, apps, random
/// streams).
pub trait Build<Ctx, T: ?Sized> {
    fn build(&self, ctx: &Ctx) -> Box<T>;
}

/// Declares a decision's configuration enum: one line per policy,
/// `"kind" => Variant(its Config type)` (aliases after `|`).
///
/// ```ignore
/// decision! {
///     /// Which host gets a new instance.
///     pub enum PlacementCfg: "placement" => dyn Placement, Ctx<'_>;
///     default = PlacementCfg::FirstFit(Default::default());
///     "first-fit" => FirstFit(first_fit::Config);
///     "worst-fit" | "least-loaded" => WorstFit(worst_fit::Config);
/// }
/// ```
#[macro_export]
#[doc(hidden)]
macro_rules! decision {
    (
        $(#[$meta:meta])*
        pub enum $Cfg:ident : $what:literal => $Trait:ty, $Ctx:ty;
        default = $default:expr;
        $( $(#[$vmeta:meta])* $kind:literal $(| $alias:literal)* => $Variant:ident($Conf:ty); )+
    ) => {
        $(#[$meta])*
        #[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(remote = "Self")]
        pub enum $Cfg {
            $(
                $(#[$vmeta])*
                #[serde(rename = $kind $(, alias = $alias)*)]
                $Variant($Conf),
            )+
        }

        $crate::cfg::tagged!($Cfg, "kind", $what);

        impl $Cfg {
            /// Every `kind` this table accepts (aliases not included).
            pub const KINDS: &'static [&'static str] = &[$($kind),+];

            /// The `kind` of this configuration.
            pub fn kind(&self) -> &'static str {
                match self {
                    $($Cfg::$Variant(_) => $kind,)+
                }
            }

            /// The policy this configuration describes.
            pub fn build(&self, ctx: &$Ctx) -> Box<$Trait> {
                match self {
                    $($Cfg::$Variant(c) => <$Conf as $crate::policy::Build<$Ctx, $Trait>>::build(c, ctx),)+
                }
            }
        }

        impl $crate::cfg::Validate for $Cfg {
            fn validate(&self, c: &mut $crate::cfg::Check) {
                match self {
                    $($Cfg::$Variant(x) => $crate::cfg::Validate::validate(x, c),)+
                }
            }
        }

        impl Default for $Cfg {
            fn default() -> Self {
                $default
            }
        }
    };
}
pub use crate::decision;

/// Declares the configuration of a policy that has no keys: an empty table
/// that refuses any key, with nothing to validate.
#[macro_export]
#[doc(hidden)]
macro_rules! no_keys {
    ($(#[$meta:meta])* $Config:ident) => {
        $(#[$meta])*
        #[derive(Clone, Debug, Default, PartialEq, serde::Serialize, serde::Deserialize)]
        #[serde(deny_unknown_fields)]
        pub struct $Config {}

        impl $crate::cfg::Validate for $Config {
            fn validate(&self, _: &mut $crate::cfg::Check) {}
        }
    };
}
pub use crate::no_keys;
