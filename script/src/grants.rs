//! A script's grants: `drone_lang::grants`, which the checker and policies read too.

pub use drone_lang::grants::*;
