//! The children of a batch of owner keys, as a dataloader asks for them:
//! one statement for every key, grouped by key.

use super::keys::KeyMap;
use super::relation::level::read;
use super::select::OwnerFilter;
use super::{Decoded, Io, Job, Slot, Statement, internal};
use crate::entity::Keyed;
use crate::error::Result;
use crate::relation::HasMany;
use crate::scope::Scope;

/// The children (within `scope`) of the owners whose keys are `keys`.
pub struct ChildrenOf<R: HasMany> {
    keys: Vec<<R::Owner as Keyed>::Key>,
    scope: Scope<R::Target>,
    sent: Option<Slot>,
}

impl<R: HasMany> ChildrenOf<R> {
    pub(crate) fn new(keys: Vec<<R::Owner as Keyed>::Key>, scope: Scope<R::Target>) -> Self {
        ChildrenOf {
            keys,
            scope,
            sent: None,
        }
    }
}

impl<R: HasMany> Job for ChildrenOf<R> {
    type Output = KeyMap<<R::Owner as Keyed>::Key, Vec<R::Target>>;

    fn step(&mut self, io: &mut Io) -> Result<Option<Self::Output>> {
        if let Some(slot) = self.sent.take() {
            let mut children: Self::Output = KeyMap::default();
            for child in io.take::<Decoded<R::Target>>(slot)?.rows {
                if let Some(key) = R::foreign_key(&child) {
                    children.entry(key.clone()).or_default().push(child);
                }
            }
            return Ok(Some(children));
        }
        if self.keys.is_empty() {
            return Err(internal("a batch without keys"));
        }
        let parts = super::relation::has_many::select_parts::<R>();
        let keys = super::keys::key_array(self.keys.iter());
        let constants = (R::SQL.whole, R::SQL.keyed);
        let read = read(
            io,
            &parts,
            constants,
            OwnerFilter::Keys(keys),
            &self.scope,
            Decoded::<R::Target>::new(),
        );
        let statement = Statement::new(read.entity, read.sql, read.params, Box::new(read.sink));
        self.sent = Some(io.send(statement));
        Ok(None)
    }
}
