//! confab-core: the state store, the command language and the local
//! history. Plain data in, events out: no network, no terminal, no tokio.
//! Depends on confab-proto only.

pub mod command;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod history;
pub mod names;
pub mod store;
