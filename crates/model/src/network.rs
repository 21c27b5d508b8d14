//! The network itself (feature `network`, on by default): burn's CNN and the [`Classifier`]
//! that runs it. The page only needs the classes, the manifest and the calls, and builds
//! without burn.

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{BatchNorm, BatchNormConfig, Linear, LinearConfig, PaddingConfig2d};
use burn::tensor::activation::{relu, softmax};
use burn::tensor::{Device, Distribution, Tensor, TensorData};
use features::{FeatureGrid, SIZE};

use crate::manifest::Manifest;
use crate::{NUM_CLASSES, Pooling, Prediction, sha256_hex};

/// The network: four 3x3 conv + ReLU + 2x2 pool stages (64 -> 4 cells a side; [`Pooling`]),
/// then two linear layers over the 4x4x64 map. The flattened map keeps *where* a pattern is
/// (centre, edge, in between), which is most of what separates Center, Loc, Edge-Loc and
/// Edge-Ring; a global average pool would throw that away. 126K parameters.
#[derive(Module, Debug)]
pub struct Cnn {
    conv1: Conv2d,
    conv2: Conv2d,
    conv3: Conv2d,
    conv4: Conv2d,
    /// Batch normalisation after each convolution, before its ReLU (`train --batch-norm`;
    /// none in v1 and v2). Only training uses it as such: [`Cnn::folded`] folds it into the
    /// convolutions, so inference runs the same network, at the same cost, as without it.
    norm: Option<[BatchNorm; 4]>,
    pool: MaxPool2d,
    fc1: Linear,
    fc2: Linear,
    #[module(skip)]
    pooling: Pooling,
    /// A second input channel with each on-wafer cell's radius (`train --radial`; none in v1
    /// and v2): see [`Cnn::input`].
    #[module(skip)]
    radial: bool,
}

const CHANNELS: [usize; 5] = [1, 16, 32, 64, 64];
const HIDDEN: usize = 64;

impl Cnn {
    /// A freshly initialised network on `device` (seed the device first for reproducibility).
    pub fn new(device: &Device) -> Cnn {
        Cnn::with_pooling(device, Pooling::Max)
    }

    /// [`Cnn::new`] pooling as `pooling` says.
    pub fn with_pooling(device: &Device, pooling: Pooling) -> Cnn {
        Cnn::with_arch(device, pooling, false, false)
    }

    /// [`Cnn::with_pooling`], with batch normalisation after each convolution if `batch_norm`
    /// and a radius channel beside the map if `radial`.
    pub fn with_arch(device: &Device, pooling: Pooling, batch_norm: bool, radial: bool) -> Cnn {
        let conv = |i: usize| {
            let inputs = if i == 0 && radial { 2 } else { CHANNELS[i] };
            Conv2dConfig::new([inputs, CHANNELS[i + 1]], [3, 3])
                .with_padding(PaddingConfig2d::Same)
                .init(device)
        };
        let cells = SIZE >> 4;
        Cnn {
            conv1: conv(0),
            conv2: conv(1),
            conv3: conv(2),
            conv4: conv(3),
            norm: batch_norm.then(|| {
                std::array::from_fn(|i| BatchNormConfig::new(CHANNELS[i + 1]).init(device))
            }),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc1: LinearConfig::new(CHANNELS[4] * cells * cells, HIDDEN).init(device),
            fc2: LinearConfig::new(HIDDEN, NUM_CLASSES).init(device),
            pooling,
            radial,
        }
    }

    pub fn radial(&self) -> bool {
        self.radial
    }

    /// A batch of grids as this network's input: `[batch, 1, SIZE, SIZE]` (see
    /// [`FeatureGrid::write_input`]), or with `radial` `[batch, 2, SIZE, SIZE]`, the second
    /// channel each on-wafer cell's distance from the wafer's centre over its radius along that
    /// direction (0 off the wafer). The patterns that v2 confuses (Loc with Center and Edge-Loc,
    /// Edge-Loc with Edge-Ring) differ in how far out their fails are; the convolutions can only
    /// infer that from the off-wafer margin a few cells away, and the 4x4 map the linear layers
    /// read places a fail to a sixteenth of the grid.
    pub fn input(&self, grids: &[&FeatureGrid], device: &Device) -> Tensor<4> {
        if !self.radial {
            return input(grids, device);
        }
        let mut v = Vec::with_capacity(grids.len() * 2 * SIZE * SIZE);
        for g in grids {
            g.write_input(&mut v);
            crate::radius::write(g, &mut v);
        }
        Tensor::from_data(TensorData::new(v, [grids.len(), 2, SIZE, SIZE]), device)
    }

    pub fn pooling(&self) -> Pooling {
        self.pooling
    }

    /// Stage `i`'s (0-3) 2x2 pool.
    fn pool(&self, i: usize, x: Tensor<4>) -> Tensor<4> {
        match self.pooling {
            Pooling::AvgMax if i < 2 => AvgPool2dConfig::new([2, 2]).init().forward(x),
            _ => self.pool.forward(x),
        }
    }

    /// Inputs as [`Cnn::input`] makes them (one channel, or two if `radial`) to
    /// `[batch, NUM_CLASSES]` logits.
    pub fn forward(&self, x: Tensor<4>) -> Tensor<2> {
        self.forward_dropout(x, 0.0)
    }

    /// [`forward`](Cnn::forward) for training, with a share `p` of the flattened map and of the
    /// hidden layer dropped (scaled by `1/(1-p)`), so the linear layers cannot lean on exact
    /// synthetic positions. `p = 0` is `forward`. Dropout is a training-time mask only: it adds
    /// no parameter, and the weights file and every runtime are unchanged.
    pub fn forward_dropout(&self, x: Tensor<4>, p: f64) -> Tensor<2> {
        let drop = |x: Tensor<2>| {
            if p <= 0.0 {
                return x;
            }
            let keep = x.random_like(Distribution::Bernoulli(1.0 - p));
            x * keep / (1.0 - p)
        };
        let norm = |i: usize, x: Tensor<4>| match &self.norm {
            Some(n) => n[i].forward(x),
            None => x,
        };
        let x = self.pool(0, relu(norm(0, self.conv1.forward(x))));
        let x = self.pool(1, relu(norm(1, self.conv2.forward(x))));
        let x = self.pool(2, relu(norm(2, self.conv3.forward(x))));
        let x = self.pool(3, relu(norm(3, self.conv4.forward(x))));
        let x: Tensor<2> = drop(x.flatten(1, 3));
        self.fc2.forward(drop(relu(self.fc1.forward(x))))
    }
}

impl Cnn {
    /// Whether the network was built with batch normalisation (before [`Cnn::folded`]).
    pub fn batch_norm(&self) -> bool {
        self.norm.is_some()
    }

    /// The network for inference: each batch normalisation, with its running statistics, folded
    /// into the convolution before it (`w * s`, `(b - mean) * s + beta`, with
    /// `s = gamma / sqrt(var + eps)`), which is exactly what it computes outside training. So
    /// the browser, the edge and the PyTorch baseline run one plain network whichever way it
    /// was trained. A network without it is returned as it is.
    pub fn folded(self) -> Cnn {
        let Some(norms) = self.norm.clone() else {
            return self;
        };
        let fold = |c: &Conv2d, n: &BatchNorm| {
            let s = n.gamma.val() / (n.running_var.value() + n.epsilon).sqrt();
            let [out] = s.dims();
            let w = c.weight.val() * s.clone().reshape([out, 1, 1, 1]);
            let mean = n.running_mean.value();
            let b = match &c.bias {
                Some(b) => b.val() - mean,
                None => -mean,
            } * s
                + n.beta.val();
            Conv2d {
                weight: Param::initialized(ParamId::new(), w),
                bias: Some(Param::initialized(ParamId::new(), b)),
                ..c.clone()
            }
        };
        Cnn {
            conv1: fold(&self.conv1, &norms[0]),
            conv2: fold(&self.conv2, &norms[1]),
            conv3: fold(&self.conv3, &norms[2]),
            conv4: fold(&self.conv4, &norms[3]),
            norm: None,
            ..self
        }
    }

    /// The same network with parameter ids numbered by their place in it. burn draws the ids at
    /// random and writes them into the weights file, so without this two identical trainings
    /// write different bytes and the manifest's sha256 does not reproduce.
    pub fn with_stable_ids(self) -> Cnn {
        struct Numbered(u64);
        impl ModuleMapper for Numbered {
            fn map_float<const D: usize>(&mut self, p: Param<Tensor<D>>) -> Param<Tensor<D>> {
                self.0 += 1;
                Param::initialized(ParamId::from(self.0), p.val())
            }
        }
        self.map(&mut Numbered(0))
    }

    /// Every parameter as (name, shape, values), in PyTorch's layout (a linear layer's weight
    /// as `[out, in]`; burn keeps `[in, out]`), for the benchmark that runs the same network in
    /// PyTorch.
    pub fn export(&self) -> Vec<(String, Vec<usize>, Vec<f32>)> {
        let mut out = Vec::new();
        let mut put = |name: &str, t: TensorData| {
            let shape = t.shape().to_vec();
            out.push((
                name.to_string(),
                shape,
                t.try_to_vec::<f32>().unwrap_or_default(),
            ));
        };
        for (i, c) in [&self.conv1, &self.conv2, &self.conv3, &self.conv4]
            .iter()
            .enumerate()
        {
            put(&format!("conv{}.weight", i + 1), c.weight.val().into_data());
            if let Some(b) = &c.bias {
                put(&format!("conv{}.bias", i + 1), b.val().into_data());
            }
        }
        for (name, l) in [("fc1", &self.fc1), ("fc2", &self.fc2)] {
            put(
                &format!("{name}.weight"),
                l.weight.val().transpose().into_data(),
            );
            if let Some(b) = &l.bias {
                put(&format!("{name}.bias"), b.val().into_data());
            }
        }
        out
    }
}

/// A batch of grids as the single-channel network's input tensor ([`Cnn::input`] for any
/// network).
pub(crate) fn input(grids: &[&FeatureGrid], device: &Device) -> Tensor<4> {
    let mut v = Vec::with_capacity(grids.len() * SIZE * SIZE);
    for g in grids {
        g.write_input(&mut v);
    }
    Tensor::from_data(TensorData::new(v, [grids.len(), 1, SIZE, SIZE]), device)
}

/// Why weights could not be loaded.
#[derive(Debug)]
pub struct LoadError(pub String);

impl std::fmt::Display for LoadError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot load model weights: {}", self.0)
    }
}

impl std::error::Error for LoadError {}

/// The trained network on a device, ready to classify. Its probabilities are calibrated: the
/// softmax of the logits over the manifest's temperature.
pub struct Classifier {
    model: Cnn,
    device: Device,
    temperature: f32,
}

impl Classifier {
    /// Load weights (a burnpack record, as `public/model/` ships them) onto `device`, for the
    /// max-pooling network (v1, v2).
    pub fn load(weights: &[u8], device: &Device) -> Result<Classifier, LoadError> {
        Classifier::load_arch(weights, device, Pooling::Max, false, false)
    }

    /// [`Classifier::load`] for a network that pools as `pooling` says and has batch
    /// normalisation if `batch_norm` (the manifest's), folded for inference.
    pub fn load_arch(
        weights: &[u8],
        device: &Device,
        pooling: Pooling,
        batch_norm: bool,
        radial: bool,
    ) -> Result<Classifier, LoadError> {
        let record = burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(
            weights.to_vec(),
        ))
        .map_err(|e| LoadError(format!("{e:?}")))?;
        let model = Cnn::with_arch(device, pooling, batch_norm, radial)
            .try_load_record(record)
            .map_err(|e| LoadError(format!("{e:?}")))?
            .folded();
        Ok(Classifier {
            model,
            device: device.clone(),
            temperature: 1.0,
        })
    }

    /// Load shipped weights after checking them against their manifest (`manifest.json`'s
    /// text): the sha256 must match and the feature spec must be the one this build makes.
    pub fn load_verified(
        manifest: &str,
        weights: &[u8],
        device: &Device,
    ) -> Result<(Classifier, Manifest), LoadError> {
        let m: Manifest = serde_json::from_str(manifest)
            .map_err(|e| LoadError(format!("model manifest: {e}")))?;
        let sum = sha256_hex(weights);
        if sum != m.sha256 {
            return Err(LoadError(format!(
                "the weights have sha256 {sum}, the manifest says {}",
                m.sha256
            )));
        }
        if m.feature_spec_version != features::SPEC_VERSION {
            return Err(LoadError(format!(
                "the model was trained on feature spec {}, this build makes spec {}",
                m.feature_spec_version,
                features::SPEC_VERSION
            )));
        }
        if !(m.temperature.is_finite() && m.temperature > 0.0) {
            return Err(LoadError(format!(
                "the manifest's temperature {} is not a positive number",
                m.temperature
            )));
        }
        let c = Classifier::load_arch(weights, device, m.pooling, m.batch_norm, m.radial)?
            .with_temperature(m.temperature);
        Ok((c, m))
    }

    /// A classifier of a network in memory (folded: see [`Cnn::folded`]).
    pub fn from_model(model: Cnn, device: &Device) -> Classifier {
        Classifier {
            model: model.folded(),
            device: device.clone(),
            temperature: 1.0,
        }
    }

    /// The same classifier with probabilities calibrated at temperature `t`.
    pub fn with_temperature(self, t: f32) -> Classifier {
        Classifier {
            temperature: t,
            ..self
        }
    }

    pub fn temperature(&self) -> f32 {
        self.temperature
    }

    /// The raw logits of a batch (native), for fitting the temperature.
    pub fn logits(&self, grids: &[&FeatureGrid]) -> Vec<[f32; NUM_CLASSES]> {
        if grids.is_empty() {
            return Vec::new();
        }
        let v: Vec<f32> = self
            .model
            .forward(self.model.input(grids, &self.device))
            .into_data()
            .try_into_vec()
            .unwrap_or_default();
        v.chunks_exact(NUM_CLASSES)
            .map(|c| std::array::from_fn(|i| c[i]))
            .collect()
    }

    pub fn device(&self) -> &Device {
        &self.device
    }

    pub fn model(&self) -> &Cnn {
        &self.model
    }

    fn probabilities(&self, grids: &[&FeatureGrid]) -> Tensor<2> {
        softmax(
            self.model.forward(self.model.input(grids, &self.device)) / self.temperature,
            1,
        )
    }

    /// Classify a batch, reading the result back synchronously (native; a synchronous read
    /// panics on wasm, where [`Classifier::predict_async`] is the way).
    pub fn predict(&self, grids: &[&FeatureGrid]) -> Vec<Prediction> {
        if grids.is_empty() {
            return Vec::new();
        }
        let data = self.probabilities(grids).into_data();
        predictions(data)
    }

    /// Classify a batch with an asynchronous readback (WebGPU in the browser).
    pub async fn predict_async(&self, grids: &[&FeatureGrid]) -> Result<Vec<Prediction>, String> {
        if grids.is_empty() {
            return Ok(Vec::new());
        }
        let data = self
            .probabilities(grids)
            .into_data_async()
            .await
            .map_err(|e| format!("{e:?}"))?;
        Ok(predictions(data))
    }
}

fn predictions(data: TensorData) -> Vec<Prediction> {
    let v: Vec<f32> = data.try_into_vec().unwrap_or_default();
    v.chunks_exact(NUM_CLASSES)
        .map(|c| {
            let mut p = [0.0; NUM_CLASSES];
            p.copy_from_slice(c);
            Prediction { probabilities: p }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use burn::module::RunningState;

    use super::*;
    use crate::synth;

    /// A network with batch normalisation whose statistics and affine parameters are not the
    /// identity, as after training.
    fn trained_like(device: &Device) -> Cnn {
        let mut cnn = Cnn::with_arch(device, Pooling::Max, true, false);
        let norms = cnn.norm.as_mut().unwrap();
        for (i, n) in norms.iter_mut().enumerate() {
            let c = CHANNELS[i + 1];
            let r =
                |lo: f64, hi: f64| Tensor::<1>::random([c], Distribution::Uniform(lo, hi), device);
            n.gamma = Param::from_tensor(r(0.5, 1.5));
            n.beta = Param::from_tensor(r(-0.3, 0.3));
            n.running_mean = RunningState::new(r(-0.2, 0.2));
            n.running_var = RunningState::new(r(0.3, 2.0));
        }
        cnn
    }

    #[test]
    fn folding_batch_norm_computes_what_it_computed() {
        let device = Device::flex();
        device.seed(7);
        let cnn = trained_like(&device);
        let maps = synth::dataset(3, 9);
        let grids: Vec<FeatureGrid> = maps.iter().map(|m| m.grid()).collect();
        let refs: Vec<&FeatureGrid> = grids.iter().collect();
        let logits = |c: &Cnn| -> Vec<f32> {
            c.forward(input(&refs, &device))
                .into_data()
                .try_into_vec()
                .unwrap()
        };
        let before = logits(&cnn);
        let folded = cnn.clone().folded();
        assert!(cnn.batch_norm() && !folded.batch_norm());
        let after = logits(&folded);
        let worst = before
            .iter()
            .zip(&after)
            .map(|(a, b)| (a - b).abs())
            .fold(0.0f32, f32::max);
        assert!(worst < 1e-4, "folded logits differ by {worst}");
        // The normalisation is not the identity here: without it the logits change.
        let plain = Cnn { norm: None, ..cnn };
        let differ = before
            .iter()
            .zip(&logits(&plain))
            .any(|(a, b)| (a - b).abs() > 1e-2);
        assert!(differ);
    }

    #[test]
    fn batch_norm_weights_load_folded_and_plain_weights_refuse_it() {
        let device = Device::flex();
        device.seed(8);
        let cnn = trained_like(&device);
        let bytes = cnn.clone().into_record().into_bytes().unwrap();
        let c = Classifier::load_arch(&bytes, &device, Pooling::Max, true, false).unwrap();
        assert!(!c.model().batch_norm());
        let grid = synth::dataset(4, 9)[2].grid();
        let direct = Classifier::from_model(cnn, &device).predict(&[&grid]);
        assert_eq!(c.predict(&[&grid]), direct);
        // Weights without the statistics cannot be read as a network with them.
        let plain = Cnn::new(&device).into_record().into_bytes().unwrap();
        assert!(Classifier::load_arch(&plain, &device, Pooling::Max, true, false).is_err());
    }
}
