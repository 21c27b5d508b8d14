//! The radius channel some networks read beside the map (`train --radial`): each on-wafer
//! cell's distance from the wafer's centre over its radius in that direction. Plain code, no
//! burn, so it is tested natively and is the same wherever the network runs.

use features::{FeatureGrid, OFF_WAFER, SIZE};

/// Append the radius channel of `g` (see `Cnn::input`). The centre and the radii are those
/// of the on-wafer cells' bounding box, so a wafer of non-square dies (an ellipse on the grid)
/// reads 1 all round its edge.
pub fn write(g: &FeatureGrid, out: &mut Vec<f32>) {
    let Some(o) = g.outline() else {
        out.extend(std::iter::repeat_n(0.0, SIZE * SIZE));
        return;
    };
    out.extend(g.cells.iter().enumerate().map(|(k, &b)| {
        if b == OFF_WAFER {
            return 0.0;
        }
        let (dy, dx) = o.offset(k / SIZE, k % SIZE);
        (dy * dy + dx * dx).sqrt().min(1.5)
    }));
}

#[cfg(test)]
mod tests {
    use super::*;

    fn radius(g: &FeatureGrid) -> Vec<f32> {
        let mut v = Vec::new();
        write(g, &mut v);
        assert_eq!(v.len(), SIZE * SIZE);
        v
    }

    /// A disc of `rows x cols` dies (an ellipse when they differ), all passing.
    fn disc(rows: usize, cols: usize) -> FeatureGrid {
        let (cy, cx) = ((rows - 1) as f32 / 2.0, (cols - 1) as f32 / 2.0);
        FeatureGrid::from_fn(rows, cols, |r, c| {
            let (dy, dx) = (
                (r as f32 - cy) / (rows as f32 / 2.0),
                (c as f32 - cx) / (cols as f32 / 2.0),
            );
            if dy * dy + dx * dx <= 1.0 {
                features::Die::Pass
            } else {
                features::Die::None
            }
        })
        .unwrap()
    }

    #[test]
    fn centre_reads_near_zero_edge_near_one_and_off_wafer_zero() {
        let g = disc(40, 40);
        let v = radius(&g);
        let at = |r: usize, c: usize| v[r * SIZE + c];
        assert!(at(32, 32) < 0.05, "centre {}", at(32, 32));
        // The outermost on-wafer cells of the middle row and column.
        let row: Vec<usize> = (0..SIZE)
            .filter(|&c| g.cells[32 * SIZE + c] != OFF_WAFER)
            .collect();
        let (first, last) = (row[0], *row.last().unwrap());
        assert!(at(32, first) > 0.9 && at(32, last) > 0.9);
        assert!(at(32, first) <= 1.0 && at(32, last) <= 1.0);
        // Corners of the grid are off the disc.
        assert_eq!(at(0, 0), 0.0);
        assert_eq!(at(SIZE - 1, SIZE - 1), 0.0);
        for (k, &b) in g.cells.iter().enumerate() {
            if b == OFF_WAFER {
                assert_eq!(v[k], 0.0, "off-wafer cell {k}");
            } else {
                // A disc drawn in cells bulges past its radius by a fraction of a cell.
                assert!((0.0..=1.05).contains(&v[k]), "cell {k}: {}", v[k]);
            }
        }
    }

    /// The on-wafer cells with an off-wafer (or off-grid) 4-neighbour.
    fn rim(g: &FeatureGrid) -> Vec<usize> {
        let off = |r: isize, c: isize| {
            !(0..SIZE as isize).contains(&r)
                || !(0..SIZE as isize).contains(&c)
                || g.cells[r as usize * SIZE + c as usize] == OFF_WAFER
        };
        (0..SIZE * SIZE)
            .filter(|&k| g.cells[k] != OFF_WAFER)
            .filter(|&k| {
                let (r, c) = ((k / SIZE) as isize, (k % SIZE) as isize);
                off(r - 1, c) || off(r + 1, c) || off(r, c - 1) || off(r, c + 1)
            })
            .collect()
    }

    #[test]
    fn an_ellipse_reads_one_all_round_its_edge() {
        // Dies twice as tall as wide give a wafer of twice as many columns as rows.
        for g in [disc(40, 40), disc(24, 48), disc(50, 30)] {
            let v = radius(&g);
            let rim = rim(&g);
            assert!(rim.len() > 50);
            for k in rim {
                assert!((0.85..=1.05).contains(&v[k]), "rim cell {k}: {}", v[k]);
            }
        }
    }

    #[test]
    fn the_channel_is_symmetric_about_the_centre() {
        // A centre off by half a cell would read one side of the wafer farther out than the
        // other, and a turned or mirrored map differently from the map.
        for g in [disc(40, 40), disc(24, 48), disc(33, 31)] {
            let v = radius(&g);
            for r in 0..SIZE {
                for c in 0..SIZE {
                    let (a, b) = (v[r * SIZE + c], v[(SIZE - 1 - r) * SIZE + (SIZE - 1 - c)]);
                    assert!((a - b).abs() < 1e-5, "({r}, {c}): {a} against {b}");
                }
            }
        }
    }

    #[test]
    fn an_empty_grid_is_all_zero() {
        let g = FeatureGrid {
            cells: vec![OFF_WAFER; SIZE * SIZE],
        };
        assert!(radius(&g).iter().all(|&x| x == 0.0));
    }
}

#[cfg(all(test, feature = "network"))]
mod network_tests {
    use burn::module::Module;
    use burn::tensor::Device;

    use crate::{Classifier, Cnn, Pooling, synth};

    #[test]
    fn radial_weights_load_only_as_a_radial_network() {
        let device = Device::flex();
        device.seed(9);
        let cnn = Cnn::with_arch(&device, Pooling::Max, false, true);
        let bytes = cnn.clone().into_record().into_bytes().unwrap();
        let c = Classifier::load_arch(&bytes, &device, Pooling::Max, false, true).unwrap();
        assert!(c.model().radial());
        let grid = synth::dataset(4, 9)[2].grid();
        let direct = Classifier::from_model(cnn.clone(), &device).predict(&[&grid]);
        assert_eq!(c.predict(&[&grid]), direct);
        // The input is the map, then its radius channel.
        let x: Vec<f32> = cnn
            .input(&[&grid], &device)
            .into_data()
            .try_into_vec()
            .unwrap();
        let mut want = grid.to_input();
        super::write(&grid, &mut want);
        assert_eq!(x, want);
        assert!(
            want[features::SIZE * features::SIZE..]
                .iter()
                .any(|&r| r > 0.5)
        );
        // A manifest that says the other thing gets an error, not a network of the wrong shape.
        assert!(Classifier::load_arch(&bytes, &device, Pooling::Max, false, false).is_err());
        let plain = Cnn::new(&device).into_record().into_bytes().unwrap();
        assert!(Classifier::load_arch(&plain, &device, Pooling::Max, false, true).is_err());
    }
}
