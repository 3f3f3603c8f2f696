//! Where the evaluation's figures go: CSV, a markdown table and SVG plots.

use super::experiment::Row;
use plotters::coord::combinators::IntoLogRange;
use plotters::prelude::*;
use std::error::Error;
use std::fmt::Write as _;
use std::fs;
use std::path::Path;

/// The columns of every table, one per field of a [`Row`].
const COLUMNS: [&str; 16] = [
    "system",
    "latency",
    "nodes",
    "friends",
    "backups",
    "lookups",
    "failed",
    "hops_mean",
    "hops_median",
    "hops_p99",
    "stretch_mean",
    "stretch_p99",
    "stretch_ratio_of_sums",
    "state_entries",
    "state_bytes",
    "maintenance_per_minute",
];

/// A row's cells, in [`COLUMNS`] order (an unmeasured value is empty).
fn cells(r: &Row) -> [String; 16] {
    let m = &r.metrics;
    [
        r.system.clone(),
        r.setup.latency.name().to_owned(),
        r.setup.nodes.to_string(),
        r.setup.friends.to_string(),
        r.setup.backups.to_string(),
        m.lookups.to_string(),
        m.failed.to_string(),
        format!("{:.3}", m.hops_mean),
        m.hops_median.to_string(),
        m.hops_p99.to_string(),
        format!("{:.3}", m.stretch_mean),
        format!("{:.3}", m.stretch_p99),
        format!("{:.3}", m.stretch_ratio_of_sums),
        format!("{:.1}", r.state_entries),
        format!("{:.0}", r.state_bytes),
        r.maintenance_per_minute.map_or(String::new(), |v| format!("{v:.1}")),
    ]
}

/// The rows as CSV.
pub fn csv(rows: &[Row]) -> String {
    let mut out = COLUMNS.join(",") + "\n";
    for row in rows {
        out += &(cells(row).join(",") + "\n");
    }
    out
}

/// The rows as a markdown table.
pub fn markdown(rows: &[Row]) -> String {
    let mut out = format!("| {} |\n|---|{}\n", COLUMNS.join(" | "), "---:|".repeat(COLUMNS.len() - 1));
    for row in rows {
        let _ = writeln!(out, "| {} |", cells(row).join(" | "));
    }
    out
}

/// One line of a plot: its label and its points.
pub struct Series {
    /// The legend's label.
    pub label: String,
    /// (x, y) points, x increasing.
    pub points: Vec<(f64, f64)>,
}

/// A line plot with a logarithmic x axis, written as SVG to `path`.
pub fn plot(path: &Path, title: &str, x_label: &str, y_label: &str, series: &[Series]) -> Result<(), Box<dyn Error>> {
    let points = || series.iter().flat_map(|s| s.points.iter());
    let x_min = points().map(|p| p.0).fold(f64::INFINITY, f64::min).max(1.0);
    let x_max = points().map(|p| p.0).fold(1.0, f64::max).max(x_min * 2.0);
    let y_max = points().map(|p| p.1).fold(0.0, f64::max).max(1.0) * 1.1;
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (800, 500)).into_drawing_area();
        root.fill(&WHITE)?;
        let mut chart = ChartBuilder::on(&root)
            .caption(title, ("sans-serif", 22))
            .margin(15)
            .x_label_area_size(45)
            .y_label_area_size(55)
            .build_cartesian_2d((x_min..x_max).log_scale(), 0.0..y_max)?;
        chart.configure_mesh().x_desc(x_label).y_desc(y_label).draw()?;
        for (index, s) in series.iter().enumerate() {
            let colour = Palette99::pick(index).to_rgba();
            chart
                .draw_series(LineSeries::new(s.points.iter().copied(), colour.stroke_width(2)))?
                .label(s.label.clone())
                .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 18, y)], colour.stroke_width(2)));
            chart.draw_series(s.points.iter().map(|&p| Circle::new(p, 3, colour.filled())))?;
        }
        chart.configure_series_labels().background_style(WHITE.mix(0.8)).border_style(BLACK).draw()?;
        root.present()?;
    }
    fs::write(path, svg)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::simulate::experiment::{Latency, Routing, Setup};
    use crate::simulate::metrics::Metrics;

    fn row(system: &str, nodes: usize, hops: f64) -> Row {
        Row {
            setup: Setup {
                nodes,
                friends: 50,
                backups: 2,
                lookups: 10,
                seed: 1,
                routing: Routing::Plain,
                rule: mmp2p_core::RoutingRule::EitherWay,
                latency: Latency::Plane,
            },
            system: system.to_owned(),
            metrics: Metrics { lookups: 10, hops_mean: hops, ..Metrics::default() },
            state_entries: 56.0,
            state_bytes: 1904.0,
            maintenance_per_minute: None,
            datagrams: 0,
            drops: Vec::new(),
        }
    }

    #[test]
    fn csv_and_markdown_have_one_line_per_row() {
        let rows = [row("MMP2P", 100, 3.5), row("Chord", 100, 4.25)];
        let csv = csv(&rows);
        assert_eq!(csv.lines().count(), 3);
        assert!(csv.lines().nth(2).unwrap().starts_with("Chord,plane,100,50,2,10,0,4.250,"), "{csv}");
        assert_eq!(csv.lines().next().unwrap().split(',').count(), csv.lines().nth(1).unwrap().split(',').count());
        let table = markdown(&rows);
        assert_eq!(table.lines().count(), 4);
        assert!(table.contains("| MMP2P | plane | 100 | 50 | 2 | 10 | 0 | 3.500 |"), "{table}");
    }

    #[test]
    fn a_plot_is_an_svg_with_its_labels() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plot.svg");
        let series = [
            Series { label: "MMP2P".into(), points: vec![(100.0, 2.0), (1000.0, 3.0)] },
            Series { label: "Chord".into(), points: vec![(100.0, 2.5), (1000.0, 2.7)] },
        ];
        plot(&path, "stretch vs nodes", "nodes", "stretch", &series).unwrap();
        let svg = fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg") && svg.contains("stretch vs nodes") && svg.contains("Chord"), "{svg}");
    }
}
