//! How a wafer sits, as WCR says: flat or notch direction, axis directions, units, sizes and
//! centre. Part of the model (re-exported by [`crate::model`]); kept apart from the dies.

/// Which way the wafer's flat or notch points, from WCR WF_FLAT.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum FlatDirection {
    Up,
    #[default]
    Down,
    Left,
    Right,
    /// The file did not say (blank or unknown character); viewers draw it at the bottom.
    Unknown,
}

/// Direction in which a coordinate grows, from WCR POS_X / POS_Y.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum AxisDirection {
    /// x grows to the right, or y grows upwards.
    #[default]
    Positive,
    Negative,
}

/// Units of WCR sizes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub enum SizeUnit {
    #[default]
    Unknown,
    Inches,
    Centimeters,
    Millimeters,
    Mils,
}

impl SizeUnit {
    pub fn to_mm(self) -> Option<f32> {
        match self {
            SizeUnit::Unknown => None,
            SizeUnit::Inches => Some(25.4),
            SizeUnit::Centimeters => Some(10.0),
            SizeUnit::Millimeters => Some(1.0),
            SizeUnit::Mils => Some(0.0254),
        }
    }
}

/// Wafer geometry from WCR, with fallbacks applied.
///
/// Tester files often leave WCR fields 0, blank or -32768. The raw values are kept; the
/// `effective_*` methods give what a viewer should use.
#[derive(Clone, Debug, PartialEq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct WaferGeometry {
    /// Whether a WCR record was present at all.
    pub from_wcr: bool,
    pub flat: FlatDirection,
    /// Raw WF_FLAT character (' ' when missing).
    pub flat_char: char,
    /// POS_X: does x grow to the right ('R', Positive) or left ('L', Negative)?
    pub x_direction: AxisDirection,
    /// POS_Y: does y grow upwards ('U', Positive) or downwards ('D', Negative)?
    pub y_direction: AxisDirection,
    pub pos_x_char: char,
    pub pos_y_char: char,
    pub units: SizeUnit,
    /// Wafer diameter in `units`; None when 0 or missing.
    pub wafer_size: Option<f32>,
    pub die_width: Option<f32>,
    pub die_height: Option<f32>,
    /// Centre die coordinates; None when -32768 or missing.
    pub center_x: Option<i16>,
    pub center_y: Option<i16>,
}

impl Default for WaferGeometry {
    fn default() -> Self {
        Self {
            from_wcr: false,
            flat: FlatDirection::Unknown,
            flat_char: ' ',
            x_direction: AxisDirection::Positive,
            // Probers number rows from the top in most files without a WCR; a map drawn with y
            // growing downwards matches what the tester's own viewer shows.
            y_direction: AxisDirection::Negative,
            pos_x_char: ' ',
            pos_y_char: ' ',
            units: SizeUnit::Unknown,
            wafer_size: None,
            die_width: None,
            die_height: None,
            center_x: None,
            center_y: None,
        }
    }
}

impl WaferGeometry {
    /// Die aspect ratio width/height; 1.0 when the file gives no usable size.
    pub fn die_aspect(&self) -> f32 {
        match (self.die_width, self.die_height) {
            (Some(w), Some(h)) if w > 0.0 && h > 0.0 && (w / h).is_finite() => w / h,
            _ => 1.0,
        }
    }
}
