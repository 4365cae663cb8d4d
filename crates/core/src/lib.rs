//! **confab-core** — rule: the state store (`Store::apply(Input) ->
//! Vec<Event>`), the command language (table, parser, `Command`) and the
//! local history (SQLite). Plain data in, events out: no network, no
//! terminal, no tokio; depends on confab-proto and the pure confab-omemo
//! (whose keys and sessions `omemo_store` keeps).

pub mod command;
#[cfg(test)]
pub(crate) mod fixtures;
pub mod history;
pub mod names;
pub mod omemo_store;
pub mod store;
