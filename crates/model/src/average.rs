//! Weight averaging for training (stochastic weight averaging, Izmailov et al. 2018): the mean of
//! the network's weights at the ends of the last epochs, instead of the last epoch's alone.
//!
//! Why: the last steps of a run wander in a basin of the loss that fits the synthetic maps;
//! where exactly they stop depends on the seed, and on the real maps that decides several
//! labels (README, try H: the seed alone moved the dev score by five maps). The mean of the
//! snapshots sits nearer the basin's centre, which is flatter and known to carry better to data
//! unlike the training set. The network has no batch norm, so the mean needs no recalibration.

use burn::module::{Module, ModuleMapper, ModuleVisitor, Param};
use burn::tensor::{Tensor, TensorData};

use crate::Cnn;

/// The running sum of snapshots of one network's weights, in the order burn visits them.
#[derive(Default)]
pub struct WeightAverage {
    sums: Vec<Vec<f64>>,
    count: usize,
}

impl WeightAverage {
    pub fn new() -> WeightAverage {
        WeightAverage::default()
    }

    /// How many snapshots were added.
    pub fn count(&self) -> usize {
        self.count
    }

    /// Add `model`'s weights as one snapshot (summed in f64, so the order of a long run's
    /// additions does not round the mean).
    pub fn add(&mut self, model: &Cnn) {
        struct Add<'a> {
            sums: &'a mut Vec<Vec<f64>>,
            at: usize,
        }
        impl ModuleVisitor for Add<'_> {
            fn visit_float<const D: usize>(&mut self, p: &Param<Tensor<D>>) {
                let values = p.val().into_data().try_to_vec::<f32>().unwrap_or_default();
                if self.sums.len() == self.at {
                    self.sums.push(vec![0.0; values.len()]);
                }
                for (s, v) in self.sums[self.at].iter_mut().zip(values) {
                    *s += v as f64;
                }
                self.at += 1;
            }
        }
        model.visit(&mut Add {
            sums: &mut self.sums,
            at: 0,
        });
        self.count += 1;
    }

    /// `model` with every weight replaced by the mean of the snapshots; `model` itself when none
    /// was added. Parameter ids are kept.
    pub fn apply(&self, model: Cnn) -> Cnn {
        if self.count == 0 {
            return model;
        }
        struct Mean<'a> {
            avg: &'a WeightAverage,
            at: usize,
        }
        impl ModuleMapper for Mean<'_> {
            fn map_float<const D: usize>(&mut self, p: Param<Tensor<D>>) -> Param<Tensor<D>> {
                let t = p.val();
                let n = self.avg.count as f64;
                let mean: Vec<f32> = self.avg.sums[self.at]
                    .iter()
                    .map(|s| (s / n) as f32)
                    .collect();
                self.at += 1;
                let data = TensorData::new(mean, t.shape());
                Param::initialized(p.id, Tensor::from_data(data, &t.device()))
            }
        }
        model.map(&mut Mean { avg: self, at: 0 })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use burn::tensor::Device;

    fn weights(m: &Cnn) -> Vec<f32> {
        m.export().into_iter().flat_map(|(_, _, v)| v).collect()
    }

    #[test]
    fn the_average_is_the_mean_of_each_weight() {
        let device = Device::flex();
        device.seed(1);
        let a = Cnn::new(&device);
        device.seed(2);
        let b = Cnn::new(&device);
        let mut avg = WeightAverage::new();
        avg.add(&a);
        avg.add(&b);
        assert_eq!(avg.count(), 2);
        let (wa, wb) = (weights(&a), weights(&b));
        let mean = weights(&avg.apply(a.clone()));
        assert_eq!(mean.len(), wa.len());
        assert!(wa != wb, "two seeds give two networks");
        for ((m, x), y) in mean.iter().zip(&wa).zip(&wb) {
            assert!((m - (x + y) / 2.0).abs() < 1e-6, "{m} vs {x} and {y}");
        }
        // The averaged network still runs.
        let x = Tensor::<4>::zeros([1, 1, features::SIZE, features::SIZE], &device);
        let out = avg
            .apply(b)
            .forward(x)
            .into_data()
            .try_to_vec::<f32>()
            .unwrap();
        assert_eq!(out.len(), crate::NUM_CLASSES);
    }

    #[test]
    fn no_snapshot_leaves_the_model_alone() {
        let device = Device::flex();
        device.seed(3);
        let a = Cnn::new(&device);
        assert_eq!(weights(&WeightAverage::new().apply(a.clone())), weights(&a));
    }
}
