//! The plan as a server-rendered SVG: a layered drawing of the dependency DAG, left to
//! right, each unit a box coloured by its status.
//!
//! A unit's layer is the length of the longest dependency path leading to it, so every edge
//! points rightwards; within a layer units are ordered by the mean position of what they
//! depend on, which keeps most edges short and uncrossed. At 200 units the boxes stay a
//! fixed, readable size and the drawing grows (the page scrolls it).

use std::collections::HashMap;

use service::orchestration::units::UnitView;

/// Box and gap sizes, in SVG user units (pixels).
const NODE_W: i64 = 170;
const NODE_H: i64 = 30;
const GAP_X: i64 = 60;
const GAP_Y: i64 = 12;
const MARGIN: i64 = 10;
/// Characters of a label before it is cut: what the box holds of its 12 px monospace text
/// (about 7.2 px a character) inside 8 px of padding on each side.
const LABEL_MAX: usize = 20;
/// Characters kept from the start of a cut label; the rest of it is the name's end.
const LABEL_HEAD: usize = 8;

/// One box.
#[derive(Debug, Clone)]
pub struct Node {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    /// The text drawn in the box (cut to fit).
    pub label: String,
    /// The full description shown on hover.
    pub title: String,
    pub status: &'static str,
    pub id: String,
}

/// One dependency arrow, as an SVG path.
#[derive(Debug, Clone)]
pub struct Edge {
    pub d: String,
}

/// The whole drawing.
#[derive(Debug, Clone, Default)]
pub struct Graph {
    pub width: i64,
    pub height: i64,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
}

/// Lays `units` out; dependencies on ids outside the list are ignored.
pub fn layout(units: &[UnitView]) -> Graph {
    let index: HashMap<&str, usize> = units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.id.as_str(), i))
        .collect();
    let deps: Vec<Vec<usize>> = units
        .iter()
        .map(|u| {
            u.dependencies
                .iter()
                .filter_map(|d| index.get(d.as_str()).copied())
                .collect()
        })
        .collect();
    let layer = layers(&deps);
    let depth = layer.iter().copied().max().map_or(0, |m| m + 1);
    let mut columns: Vec<Vec<usize>> = vec![Vec::new(); depth];
    for (i, l) in layer.iter().enumerate() {
        columns[*l].push(i);
    }
    let mut row = vec![0f64; units.len()];
    for column in &mut columns {
        // Mean row of the dependencies already placed; roots keep their creation order.
        let key = |i: usize, row: &[f64]| {
            if deps[i].is_empty() {
                i as f64
            } else {
                deps[i].iter().map(|d| row[*d]).sum::<f64>() / deps[i].len() as f64
            }
        };
        let mut keyed: Vec<(f64, usize)> = column.iter().map(|&i| (key(i, &row), i)).collect();
        keyed.sort_by(|a, b| a.0.total_cmp(&b.0).then(a.1.cmp(&b.1)));
        *column = keyed.into_iter().map(|(_, i)| i).collect();
        for (r, &i) in column.iter().enumerate() {
            row[i] = r as f64;
        }
    }
    let pos = |i: usize| {
        (
            MARGIN + layer[i] as i64 * (NODE_W + GAP_X),
            MARGIN + row[i] as i64 * (NODE_H + GAP_Y),
        )
    };
    let nodes = units
        .iter()
        .enumerate()
        .map(|(i, u)| {
            let (x, y) = pos(i);
            Node {
                x,
                y,
                w: NODE_W,
                h: NODE_H,
                label: label(&u.resource_name),
                title: format!(
                    "{} — {} {}/{} ({})",
                    u.id,
                    u.action.as_str(),
                    u.resource_type,
                    u.resource_name,
                    u.status.as_str()
                ),
                status: u.status.as_str(),
                id: u.id.clone(),
            }
        })
        .collect();
    let mut edges = Vec::new();
    for (i, ds) in deps.iter().enumerate() {
        let (x2, y2) = pos(i);
        for &d in ds {
            let (x1, y1) = pos(d);
            let (x1, y1, y2) = (x1 + NODE_W, y1 + NODE_H / 2, y2 + NODE_H / 2);
            let mid = (x1 + x2) / 2;
            edges.push(Edge {
                d: format!("M{x1},{y1} C{mid},{y1} {mid},{y2} {x2},{y2}"),
            });
        }
    }
    let tallest = columns.iter().map(Vec::len).max().unwrap_or(0) as i64;
    Graph {
        width: 2 * MARGIN + depth as i64 * (NODE_W + GAP_X) - if depth > 0 { GAP_X } else { 0 },
        height: 2 * MARGIN + tallest * (NODE_H + GAP_Y),
        nodes,
        edges,
    }
}

/// `name` as a box shows it: whole when it fits, else its start and its end around an
/// ellipsis. Names in one plan often share a long prefix (`application_server_…`) and differ
/// at the end, so keeping only the start would give many boxes the same label.
fn label(name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() <= LABEL_MAX {
        return name.to_string();
    }
    let tail = LABEL_MAX - LABEL_HEAD - 1;
    let mut out: String = chars[..LABEL_HEAD].iter().collect();
    out.push('…');
    out.extend(&chars[chars.len() - tail..]);
    out
}

/// The layer of each unit: 0 for a unit without dependencies, else one more than its
/// deepest dependency. Units on a cycle (never stored, but tolerated) stay in layer 0.
fn layers(deps: &[Vec<usize>]) -> Vec<usize> {
    let n = deps.len();
    let mut dependents: Vec<Vec<usize>> = vec![Vec::new(); n];
    let mut waiting: Vec<usize> = deps.iter().map(Vec::len).collect();
    for (i, ds) in deps.iter().enumerate() {
        for &d in ds {
            dependents[d].push(i);
        }
    }
    let mut layer = vec![0usize; n];
    let mut ready: Vec<usize> = (0..n).filter(|&i| waiting[i] == 0).collect();
    while let Some(i) = ready.pop() {
        for &j in &dependents[i] {
            layer[j] = layer[j].max(layer[i] + 1);
            waiting[j] -= 1;
            if waiting[j] == 0 {
                ready.push(j);
            }
        }
    }
    layer
}

#[cfg(test)]
mod tests {
    use super::{LABEL_MAX, label};

    #[test]
    fn a_long_name_keeps_its_start_and_its_distinguishing_end() {
        assert_eq!(label("web"), "web");
        let cut = label("application_server_layer_03_number_07");
        assert_eq!(cut, "applicat…3_number_07");
        assert_eq!(cut.chars().count(), LABEL_MAX);
        assert_ne!(cut, label("application_server_layer_03_number_08"));
        assert_eq!(
            label("ünïcödé_nämé_thät_ïs_löng").chars().count(),
            LABEL_MAX
        );
    }
}
