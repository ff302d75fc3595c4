//! The plan's dependency check: every dependency names a plan unit of the same run, no unit
//! id repeats, and the dependencies form a DAG. Each problem is reported with the ids at
//! fault, so that a client can fix its plan without guessing.

use std::collections::HashMap;

use crate::{Error, FieldError, Result};

/// Checks `units`, given as (id, dependencies) in request order; a failure names every
/// repeated id, every unknown dependency (with its unit's index) and one cycle, in order.
pub fn check(units: &[(&str, &[String])]) -> Result<()> {
    let mut errors = Vec::new();
    let mut index: HashMap<&str, usize> = HashMap::new();
    for (i, (id, _)) in units.iter().enumerate() {
        if index.insert(id, i).is_some() {
            errors.push(FieldError::at(
                i,
                "id",
                format!("repeats the plan unit id {id}"),
            ));
        }
    }
    for (i, (id, deps)) in units.iter().enumerate() {
        for dep in deps.iter() {
            if !index.contains_key(dep.as_str()) {
                errors.push(FieldError::at(
                    i,
                    "dependencies",
                    format!("{id} depends on {dep}, which is no plan unit of this run"),
                ));
            } else if dep == id {
                errors.push(FieldError::at(
                    i,
                    "dependencies",
                    format!("{id} depends on itself"),
                ));
            }
        }
    }
    if errors.is_empty()
        && let Some(cycle) = find_cycle(units, &index)
    {
        errors.push(FieldError::new(
            "plan_units",
            format!("the dependencies form a cycle: {}", cycle.join(" → ")),
        ));
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::Validation(errors))
    }
}

/// One cycle, as the ids along it with the first repeated at the end; `None` for a DAG.
/// Iterative depth-first search, so a chain of 10,000 units cannot overflow the stack.
fn find_cycle(units: &[(&str, &[String])], index: &HashMap<&str, usize>) -> Option<Vec<String>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        New,
        OnPath,
        Done,
    }
    let mut mark = vec![Mark::New; units.len()];
    for start in 0..units.len() {
        if mark[start] != Mark::New {
            continue;
        }
        // Each frame: the unit and how many of its dependencies were looked at.
        let mut path: Vec<(usize, usize)> = vec![(start, 0)];
        mark[start] = Mark::OnPath;
        while let Some((unit, next)) = path.last().copied() {
            let deps = units[unit].1;
            if next == deps.len() {
                mark[unit] = Mark::Done;
                path.pop();
                continue;
            }
            if let Some(top) = path.last_mut() {
                top.1 += 1;
            }
            let Some(&dep) = index.get(deps[next].as_str()) else {
                continue;
            };
            match mark[dep] {
                Mark::New => {
                    mark[dep] = Mark::OnPath;
                    path.push((dep, 0));
                }
                Mark::OnPath => {
                    let from = path.iter().position(|(u, _)| *u == dep).unwrap_or(0);
                    let mut cycle: Vec<String> = path[from..]
                        .iter()
                        .map(|(u, _)| units[*u].0.to_string())
                        .collect();
                    cycle.push(units[dep].0.to_string());
                    return Some(cycle);
                }
                Mark::Done => {}
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn deps(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    fn messages(err: Error) -> Vec<String> {
        match err {
            Error::Validation(errors) => errors.into_iter().map(|e| e.message).collect(),
            other => panic!("not a validation error: {other}"),
        }
    }

    #[test]
    fn a_diamond_is_a_dag() {
        let (a, b, c, d) = (deps(&[]), deps(&["a"]), deps(&["a"]), deps(&["b", "c"]));
        assert!(check(&[("a", &a), ("b", &b), ("c", &c), ("d", &d)]).is_ok());
    }

    #[test]
    fn a_cycle_is_named_along_its_ids() {
        let (a, b, c) = (deps(&["c"]), deps(&["a"]), deps(&["b"]));
        let m = messages(check(&[("a", &a), ("b", &b), ("c", &c)]).unwrap_err());
        assert_eq!(m, vec!["the dependencies form a cycle: a → c → b → a"]);
    }

    #[test]
    fn unknown_and_self_dependencies_and_repeated_ids_are_named() {
        let (a, b) = (deps(&["ghost"]), deps(&["b"]));
        let m = messages(check(&[("a", &a), ("b", &b), ("a", &[])]).unwrap_err());
        assert!(m.iter().any(|m| m.contains("repeats the plan unit id a")));
        assert!(m.iter().any(|m| m.contains("a depends on ghost")));
        assert!(m.iter().any(|m| m.contains("b depends on itself")));
    }

    #[test]
    fn a_long_chain_does_not_overflow() {
        let ids: Vec<String> = (0..20_000).map(|i| format!("u{i}")).collect();
        let deps: Vec<Vec<String>> = (0..20_000)
            .map(|i| {
                if i == 0 {
                    vec![]
                } else {
                    vec![ids[i - 1].clone()]
                }
            })
            .collect();
        let units: Vec<(&str, &[String])> = ids
            .iter()
            .zip(&deps)
            .map(|(i, d)| (i.as_str(), d.as_slice()))
            .collect();
        assert!(check(&units).is_ok());
    }
}
