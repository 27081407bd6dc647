//! How each relation kind plans its statement and assembles its values;
//! what they share is in `level`.

mod belongs_to;
mod count;
pub(crate) mod has_many;
pub(crate) mod level;
mod many_to_many;

pub use belongs_to::{BelongsToNode, OptionalBelongsToNode};
pub use count::CountNode;
pub use has_many::{HasManyNode, HasOneNode};
pub use many_to_many::ManyToManyNode;
