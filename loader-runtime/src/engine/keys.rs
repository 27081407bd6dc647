//! Key sets and grouping shared by the loaders.

use crate::entity::Keyed;
use crate::types::{ToValue, Value};

/// Maps keyed by entity keys. foldhash instead of the standard SipHash: the
/// loaders hash every key of a level once or twice, and that showed in the
/// `belongs_to` benchmark (100,000 lookups); foldhash keeps per-process
/// random seeds, so it is not trivially attackable either.
pub(crate) type KeyMap<K, V> = std::collections::HashMap<K, V, foldhash::fast::RandomState>;
/// Sets of entity keys; see [`KeyMap`].
pub(crate) type KeySet<K> = std::collections::HashSet<K, foldhash::fast::RandomState>;

/// Binds a key set as one array parameter (`rarray` on SQLite, an array
/// for `= ANY($1)` on PostgreSQL): one statement for any number of keys,
/// and no bound-variable limit. Measured against IN lists of 500 bound
/// values, it is as fast or faster (see `benches/loaders.rs`).
///
/// Integer and text keys go in ascending order (see [`sort_keys`]).
pub(crate) fn key_array<'k, K: ToValue + 'k>(keys: impl Iterator<Item = &'k K>) -> Vec<Value> {
    let mut values: Vec<Value> = keys.map(ToValue::to_value).collect();
    sort_keys(&mut values);
    values
}

/// Puts an array of integer keys, or of text keys, in ascending order
/// (others stay as they are; the order never changes a result). SQLite
/// reads an `IN` array into a temporary index, which takes keys in order
/// far faster than scattered, and a set of distinct keys comes out of its
/// hash set scattered: 10,000 posts' 1,000 authors, tight loop on a SQLite
/// file, 1.83 ms per load scattered, 1.70 ms sorted (the fastest
/// hand-written code: 1.61 ms, `benches/loaders.rs --profile belongs_to
/// 10000 2000 [--floor]`). PostgreSQL sorts an `= ANY` array for an index
/// scan itself, so sorted keys cost it nothing.
fn sort_keys(values: &mut [Value]) {
    fn int(value: &Value) -> Option<i64> {
        match value {
            Value::Int(int) => Some(*int),
            _ => None,
        }
    }
    fn text(value: &Value) -> Option<&str> {
        match value {
            Value::Text(text) => Some(text),
            _ => None,
        }
    }
    if values.iter().all(|value| int(value).is_some()) {
        if !values.is_sorted_by_key(int) {
            values.sort_unstable_by_key(int);
        }
    } else if values.iter().all(|value| text(value).is_some())
        && !values.is_sorted_by(|a, b| text(a) <= text(b))
    {
        values.sort_unstable_by(|a, b| text(a).cmp(&text(b)));
    }
}

/// Each owner's position, by key.
pub(crate) fn owner_index<O: Keyed>(owners: &[O]) -> KeyMap<&O::Key, usize> {
    owners
        .iter()
        .enumerate()
        .map(|(index, owner)| (owner.key(), index))
        .collect()
}

/// Makes each owner's items one contiguous run and returns the run of each
/// owner, keeping the order of the items within each owner. Rows ordered
/// by foreign key are already grouped; rows read in primary-key order (a
/// whole child table) or under a collation that orders keys differently
/// from Rust's equality (e.g. `NOCASE`) are grouped by a counting sort:
/// one pass to count, one to place, in place.
pub(crate) fn group_runs<T>(
    mut items: Vec<T>,
    owner_of: Vec<usize>,
    owners: usize,
) -> (Vec<T>, Vec<(usize, usize)>) {
    if let Some(ranges) = runs(&owner_of, owners) {
        return (items, ranges);
    }
    // Where each owner's run starts, then where each item goes.
    let mut next = vec![0usize; owners + 1];
    for &owner in &owner_of {
        next[owner + 1] += 1;
    }
    for owner in 0..owners {
        next[owner + 1] += next[owner];
    }
    let ranges = (0..owners)
        .map(|owner| (next[owner], next[owner + 1]))
        .collect();
    let mut destination: Vec<usize> = owner_of
        .iter()
        .map(|&owner| {
            let place = next[owner];
            next[owner] += 1;
            place
        })
        .collect();
    // Apply the permutation by following its cycles: each swap puts one
    // item in its place.
    for index in 0..items.len() {
        while destination[index] != index {
            let target = destination[index];
            items.swap(index, target);
            destination.swap(index, target);
        }
    }
    (items, ranges)
}

/// The run of each owner, or `None` if some owner's items are not contiguous.
fn runs(owner_of: &[usize], owners: usize) -> Option<Vec<(usize, usize)>> {
    let mut ranges = vec![(0usize, 0usize); owners];
    let mut seen = vec![false; owners];
    let mut start = 0;
    while start < owner_of.len() {
        let owner = owner_of[start];
        let mut end = start + 1;
        while end < owner_of.len() && owner_of[end] == owner {
            end += 1;
        }
        if std::mem::replace(&mut seen[owner], true) {
            return None;
        }
        ranges[owner] = (start, end);
        start = end;
    }
    Some(ranges)
}

#[cfg(test)]
mod tests {
    use super::{group_runs, key_array};
    use crate::types::Value;

    /// A key set bound as an array goes in ascending order when its keys
    /// are integers or text, whatever order the set gave them in; other
    /// keys keep theirs.
    #[test]
    fn key_arrays_of_integers_or_text_are_sorted() {
        let ints: Vec<Value> = key_array([7_i64, -2, 5, 1].iter());
        assert_eq!(ints, [-2, 1, 5, 7].map(Value::Int));
        let texts: Vec<Value> = key_array(
            ["b", "C", "a"]
                .iter()
                .map(|t| t.to_string())
                .collect::<Vec<_>>()
                .iter(),
        );
        assert_eq!(texts, ["C", "a", "b"].map(|t| Value::Text(t.to_owned())));
        let floats: Vec<Value> = key_array([2.0_f64, 1.0].iter());
        assert_eq!(floats, [2.0, 1.0].map(Value::Float));
    }

    #[test]
    fn grouped_items_keep_their_order() {
        let (items, ranges) = group_runs(vec!['a', 'b', 'c'], vec![1, 1, 0], 3);
        assert_eq!(items, ['a', 'b', 'c']);
        assert_eq!(ranges, [(2, 3), (0, 2), (0, 0)]);
    }

    #[test]
    fn items_in_key_order_are_grouped_in_that_order() {
        // Children read in primary-key order: owners interleave.
        let owner_of = vec![2, 0, 2, 1, 0, 2, 3, 1];
        let items: Vec<usize> = (0..owner_of.len()).collect();
        let (items, ranges) = group_runs(items, owner_of.clone(), 5);
        assert_eq!(items, [1, 4, 3, 7, 0, 2, 5, 6]);
        assert_eq!(ranges, [(0, 2), (2, 4), (4, 7), (7, 8), (8, 8)]);
        for (owner, (start, end)) in ranges.into_iter().enumerate() {
            assert!(items[start..end].iter().all(|&i| owner_of[i] == owner));
        }
    }

    #[test]
    fn interleaved_items_are_regrouped_stably() {
        let (items, ranges) = group_runs(vec!['a', 'b', 'c', 'd'], vec![1, 0, 1, 0], 2);
        assert_eq!(items, ['b', 'd', 'a', 'c']);
        assert_eq!(ranges, [(0, 2), (2, 4)]);
    }
}
