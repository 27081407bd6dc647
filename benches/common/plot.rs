//! What the benches' plots share: a labelled line with its points marked,
//! and the legend box.

use plotters::coord::ranged1d::Ranged;
use plotters::prelude::*;

/// One series: a line through `data`, each point marked, in the legend as
/// `name`. Nothing is drawn for no data.
pub fn series<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    name: &str,
    color: RGBColor,
    data: Vec<(f64, f64)>,
) where
    DB: DrawingBackend,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    if data.is_empty() {
        return;
    }
    chart
        .draw_series(LineSeries::new(data.clone(), color.stroke_width(2)))
        .unwrap()
        .label(name)
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], color.stroke_width(2)));
    chart
        .draw_series(data.into_iter().map(|p| Circle::new(p, 3, color.filled())))
        .unwrap();
}

/// The legend, boxed on a light background at `position`.
pub fn legend<'a, DB, X, Y>(
    chart: &mut ChartContext<'a, DB, Cartesian2d<X, Y>>,
    position: SeriesLabelPosition,
    font_size: u32,
) where
    DB: DrawingBackend + 'a,
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    chart
        .configure_series_labels()
        .position(position)
        .border_style(BLACK)
        .background_style(WHITE.mix(0.8))
        .label_font(("sans-serif", font_size))
        .draw()
        .unwrap();
}
