//! The network itself (feature `network`, on by default): burn's CNN and the [`Classifier`]
//! that runs it. The page only needs the classes, the manifest and the calls, and builds
//! without burn.

use burn::module::{Module, ModuleMapper, Param, ParamId};
use burn::nn::conv::{Conv2d, Conv2dConfig};
use burn::nn::pool::{AvgPool2dConfig, MaxPool2d, MaxPool2dConfig};
use burn::nn::{Linear, LinearConfig, PaddingConfig2d};
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
    pool: MaxPool2d,
    fc1: Linear,
    fc2: Linear,
    #[module(skip)]
    pooling: Pooling,
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
        let conv = |i: usize| {
            Conv2dConfig::new([CHANNELS[i], CHANNELS[i + 1]], [3, 3])
                .with_padding(PaddingConfig2d::Same)
                .init(device)
        };
        let cells = SIZE >> 4;
        Cnn {
            conv1: conv(0),
            conv2: conv(1),
            conv3: conv(2),
            conv4: conv(3),
            pool: MaxPool2dConfig::new([2, 2]).init(),
            fc1: LinearConfig::new(CHANNELS[4] * cells * cells, HIDDEN).init(device),
            fc2: LinearConfig::new(HIDDEN, NUM_CLASSES).init(device),
            pooling,
        }
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

    /// `[batch, 1, SIZE, SIZE]` inputs to `[batch, NUM_CLASSES]` logits.
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
        let x = self.pool(0, relu(self.conv1.forward(x)));
        let x = self.pool(1, relu(self.conv2.forward(x)));
        let x = self.pool(2, relu(self.conv3.forward(x)));
        let x = self.pool(3, relu(self.conv4.forward(x)));
        let x: Tensor<2> = drop(x.flatten(1, 3));
        self.fc2.forward(drop(relu(self.fc1.forward(x))))
    }
}

impl Cnn {
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

/// A batch of grids as the network's input tensor.
pub fn input(grids: &[&FeatureGrid], device: &Device) -> Tensor<4> {
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
        Classifier::load_pooled(weights, device, Pooling::Max)
    }

    /// [`Classifier::load`] for a network that pools as `pooling` says (the manifest's).
    pub fn load_pooled(
        weights: &[u8],
        device: &Device,
        pooling: Pooling,
    ) -> Result<Classifier, LoadError> {
        let record = burn::store::ModuleRecord::from_bytes(burn::tensor::Bytes::from_bytes_vec(
            weights.to_vec(),
        ))
        .map_err(|e| LoadError(format!("{e:?}")))?;
        let model = Cnn::with_pooling(device, pooling)
            .try_load_record(record)
            .map_err(|e| LoadError(format!("{e:?}")))?;
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
        let c =
            Classifier::load_pooled(weights, device, m.pooling)?.with_temperature(m.temperature);
        Ok((c, m))
    }

    pub fn from_model(model: Cnn, device: &Device) -> Classifier {
        Classifier {
            model,
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
            .forward(input(grids, &self.device))
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
            self.model.forward(input(grids, &self.device)) / self.temperature,
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
