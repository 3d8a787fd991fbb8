//! A small page-layout layer over krilla: A4 pages, a cursor moving down,
//! wrapped paragraphs, tables that repeat their header, line charts, and a
//! footer on every page (page N / M and the bundle id) added once the page
//! count is known. One CJK-capable font draws everything; krilla embeds only
//! the glyphs used (a subset).

use crate::server::error::ServiceError;
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point};
use krilla::num::NormalizedF32;
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::text::{Font, GlyphId, KrillaGlyph};
use krilla::Document;
use skrifa::instance::{LocationRef, Size};
use skrifa::MetadataProvider;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// A4 in points.
const PAGE_W: f32 = 595.0;
const PAGE_H: f32 = 842.0;
const MARGIN: f32 = 48.0;
/// The bottom of the writing area (the footer sits below).
const BOTTOM: f32 = PAGE_H - MARGIN - 14.0;
pub const CONTENT_W: f32 = PAGE_W - 2.0 * MARGIN;

/// Where Debian's fonts-noto-cjk puts its sans-serif collection.
pub const DEFAULT_FONT: &str = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc";
/// The package that provides it, named in the start-up error.
pub const FONT_PACKAGE: &str = "fonts-noto-cjk";

/// The report's font: a face with Chinese and Latin glyphs.
pub struct ReportFont {
    data: Arc<Vec<u8>>,
    index: u32,
    font: Font,
}

impl std::fmt::Debug for ReportFont {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ReportFont(face {})", self.index)
    }
}

impl ReportFont {
    /// Loads the font file (a collection's Simplified Chinese face when
    /// there is one). A missing or unusable file is an error naming the
    /// package to install, never a report with empty boxes.
    pub fn load(path: Option<&Path>) -> Result<ReportFont, String> {
        let path: PathBuf = path.map_or_else(|| PathBuf::from(DEFAULT_FONT), Path::to_path_buf);
        let bytes = std::fs::read(&path).map_err(|e| {
            format!(
                "the dispute report needs a CJK font, and {} cannot be read ({e}): \
                 install Debian's `{FONT_PACKAGE}` package (apt-get install {FONT_PACKAGE}) \
                 or pass --report-font FILE",
                path.display()
            )
        })?;
        let faces = skrifa::raw::FileRef::new(&bytes)
            .map(|f| f.fonts().count() as u32)
            .unwrap_or(1);
        // Prefer the Simplified Chinese face; any face that maps 中 and A will do.
        let mut chosen = None;
        for index in 0..faces {
            let Ok(face) = skrifa::FontRef::from_index(&bytes, index) else {
                continue;
            };
            let covers = face.charmap().map('中').is_some() && face.charmap().map('A').is_some();
            let name: String = face
                .localized_strings(skrifa::string::StringId::FAMILY_NAME)
                .english_or_first()
                .map(|s| s.chars().collect())
                .unwrap_or_default();
            if covers && (chosen.is_none() || (name.contains(" SC") && !name.contains("Mono"))) {
                chosen = Some(index);
            }
        }
        let index = chosen.ok_or_else(|| {
            format!(
                "{} has no face with Chinese and Latin glyphs: install `{FONT_PACKAGE}`",
                path.display()
            )
        })?;
        let data = Arc::new(bytes);
        let font = Font::new(data.clone().into(), index)
            .ok_or_else(|| format!("{} cannot be used as a PDF font", path.display()))?;
        Ok(ReportFont { data, index, font })
    }

    /// The width of `text` at `size` points.
    pub fn width(&self, text: &str, size: f32) -> f32 {
        let Ok(face) = skrifa::FontRef::from_index(&self.data, self.index) else {
            return text.chars().count() as f32 * size * 0.6;
        };
        let charmap = face.charmap();
        let metrics = face.glyph_metrics(Size::new(size), LocationRef::default());
        text.chars()
            .map(|c| {
                charmap
                    .map(c)
                    .and_then(|g| metrics.advance_width(g))
                    .unwrap_or(size * 0.6)
            })
            .sum()
    }
}

#[derive(Clone, Copy)]
pub struct Color(pub u8, pub u8, pub u8);

pub const BLACK: Color = Color(0, 0, 0);
pub const GREY: Color = Color(110, 110, 110);
pub const LIGHT: Color = Color(215, 215, 215);
pub const RED: Color = Color(200, 30, 30);
pub const SERIES: [Color; 4] = [
    Color(20, 90, 170),
    Color(200, 110, 0),
    Color(30, 140, 60),
    Color(150, 40, 150),
];

enum Op {
    Text {
        x: f32,
        y: f32,
        size: f32,
        color: Color,
        text: String,
    },
    Line {
        points: Vec<(f32, f32)>,
        width: f32,
        color: Color,
    },
}

/// One series of a chart: its label, and (x, y) points.
pub struct Series {
    pub label: String,
    pub points: Vec<(f64, f64)>,
}

/// Lays out a document top to bottom.
pub struct Layout<'f> {
    font: &'f ReportFont,
    pages: Vec<Vec<Op>>,
    y: f32,
}

impl<'f> Layout<'f> {
    pub fn new(font: &'f ReportFont) -> Self {
        Layout {
            font,
            pages: vec![Vec::new()],
            y: MARGIN,
        }
    }

    fn ops(&mut self) -> &mut Vec<Op> {
        self.pages.last_mut().expect("a page")
    }

    pub fn new_page(&mut self) {
        self.pages.push(Vec::new());
        self.y = MARGIN;
    }

    /// Starts a new page unless `height` more points fit on this one.
    pub fn ensure(&mut self, height: f32) {
        if self.y + height > BOTTOM {
            self.new_page();
        }
    }

    fn text_at(&mut self, x: f32, y: f32, size: f32, color: Color, text: &str) {
        self.ops().push(Op::Text {
            x,
            y,
            size,
            color,
            text: text.to_string(),
        });
    }

    fn line(&mut self, points: Vec<(f32, f32)>, width: f32, color: Color) {
        self.ops().push(Op::Line {
            points,
            width,
            color,
        });
    }

    pub fn gap(&mut self, points: f32) {
        self.y += points;
    }

    pub fn heading(&mut self, text: &str) {
        self.ensure(60.0);
        self.y += 4.0;
        for line in self.wrap(text, 15.0, CONTENT_W) {
            self.y += 20.0;
            self.text_at(MARGIN, self.y, 15.0, BLACK, &line);
        }
        self.y += 6.0;
        let y = self.y;
        self.line(vec![(MARGIN, y), (PAGE_W - MARGIN, y)], 0.8, GREY);
        self.y += 8.0;
    }

    pub fn subheading(&mut self, text: &str) {
        self.ensure(40.0);
        self.y += 16.0;
        self.text_at(MARGIN, self.y, 11.5, BLACK, text);
        self.y += 6.0;
    }

    /// Breaks `text` into lines no wider than `width` (at spaces where there
    /// are any, else anywhere: Chinese has no spaces).
    fn wrap(&self, text: &str, size: f32, width: f32) -> Vec<String> {
        let mut lines = Vec::new();
        for paragraph in text.split('\n') {
            let mut line = String::new();
            for word in paragraph.split_inclusive(' ') {
                let candidate = format!("{line}{word}");
                if self.font.width(candidate.trim_end(), size) <= width {
                    line = candidate;
                    continue;
                }
                if !line.is_empty() {
                    lines.push(line.trim_end().to_string());
                    line.clear();
                }
                for c in word.chars() {
                    let candidate = format!("{line}{c}");
                    if self.font.width(candidate.trim_end(), size) > width && !line.is_empty() {
                        lines.push(std::mem::take(&mut line));
                    }
                    line.push(c);
                }
            }
            lines.push(line.trim_end().to_string());
        }
        lines
    }

    pub fn paragraph(&mut self, text: &str, size: f32, color: Color) {
        for line in self.wrap(text, size, CONTENT_W) {
            self.ensure(size * 1.5);
            self.y += size * 1.45;
            self.text_at(MARGIN, self.y, size, color, &line);
        }
    }

    /// Label–value pairs in two columns.
    pub fn facts(&mut self, rows: &[(String, String)]) {
        // Wide enough for a SHA-256 in hex on one line.
        let label_w = 165.0;
        for (label, value) in rows {
            let labels = self.wrap(label, 8.0, label_w - 8.0);
            let values = self.wrap(value, 8.5, CONTENT_W - label_w);
            let lines = labels.len().max(values.len());
            self.ensure(12.0 * lines as f32 + 3.0);
            let top = self.y + 13.0;
            for (i, line) in labels.iter().enumerate() {
                self.text_at(MARGIN, top + 12.0 * i as f32, 8.0, GREY, line);
            }
            for (i, line) in values.iter().enumerate() {
                self.text_at(MARGIN + label_w, top + 12.0 * i as f32, 8.5, BLACK, line);
            }
            self.y = top + 12.0 * (lines - 1) as f32 + 1.0;
        }
        self.y += 4.0;
    }

    /// A table: `widths` in points (their sum at most `CONTENT_W`); cells
    /// that do not fit are cut with `…`. The header repeats on new pages.
    pub fn table(&mut self, header: &[String], widths: &[f32], rows: &[Vec<String>]) {
        let size = 8.0;
        let row_h = 12.0;
        let fit = |layout: &Self, text: &str, width: f32| -> String {
            if layout.font.width(text, size) <= width - 4.0 {
                return text.to_string();
            }
            let mut cut = String::new();
            for c in text.chars() {
                if layout.font.width(&format!("{cut}{c}…"), size) > width - 4.0 {
                    break;
                }
                cut.push(c);
            }
            format!("{cut}…")
        };
        let draw_row = |layout: &mut Self, cells: &[String], color: Color| {
            layout.y += row_h;
            let mut x = MARGIN;
            for (cell, w) in cells.iter().zip(widths) {
                let text = fit(layout, cell, *w);
                let y = layout.y;
                layout.text_at(x, y, size, color, &text);
                x += w;
            }
        };
        // A header cell may hold one line per language ("车速\nSpeed (km/h)").
        let header_lines = header.iter().map(|h| h.lines().count()).max().unwrap_or(1);
        let draw_header = |layout: &mut Self| {
            for i in 0..header_lines {
                let line: Vec<String> = header
                    .iter()
                    .map(|h| h.lines().nth(i).unwrap_or_default().to_string())
                    .collect();
                draw_row(layout, &line, GREY);
            }
        };
        self.ensure(row_h * (header_lines as f32 + 2.0));
        draw_header(self);
        for row in rows {
            if self.y + row_h > BOTTOM {
                self.new_page();
                draw_header(self);
            }
            draw_row(self, row, BLACK);
            let y = self.y + 3.0;
            self.line(
                vec![(MARGIN, y), (MARGIN + widths.iter().sum::<f32>(), y)],
                0.3,
                LIGHT,
            );
        }
        self.y += 6.0;
    }

    /// A line chart with axes, ticks, a legend and an optional marker at `x = marker`.
    pub fn chart(
        &mut self,
        title: &str,
        x_label: &str,
        series: &[Series],
        marker: Option<f64>,
        height: f32,
    ) {
        self.ensure(height + 34.0);
        self.y += 14.0;
        self.text_at(MARGIN, self.y, 9.0, BLACK, title);
        let (left, right) = (MARGIN + 40.0, PAGE_W - MARGIN - 4.0);
        let (top, bottom) = (self.y + 8.0, self.y + 8.0 + height);
        let points = || series.iter().flat_map(|s| s.points.iter());
        let (mut x0, mut x1, mut y0, mut y1) = (f64::MAX, f64::MIN, f64::MAX, f64::MIN);
        for (x, y) in points() {
            x0 = x0.min(*x);
            x1 = x1.max(*x);
            y0 = y0.min(*y);
            y1 = y1.max(*y);
        }
        if x0 > x1 {
            self.text_at(left, top + height / 2.0, 8.0, GREY, "—");
            self.y = bottom + 16.0;
            return;
        }
        if (y1 - y0).abs() < 1e-9 {
            y0 -= 1.0;
            y1 += 1.0;
        }
        if (x1 - x0).abs() < 1e-9 {
            x1 = x0 + 1.0;
        }
        let sx = |x: f64| left + ((x - x0) / (x1 - x0)) as f32 * (right - left);
        let sy = |y: f64| bottom - ((y - y0) / (y1 - y0)) as f32 * (bottom - top);
        self.line(
            vec![(left, top), (left, bottom), (right, bottom)],
            0.6,
            GREY,
        );
        for k in 0..=2 {
            let v = y0 + (y1 - y0) * k as f64 / 2.0;
            let y = sy(v);
            self.line(vec![(left - 3.0, y), (left, y)], 0.6, GREY);
            self.text_at(MARGIN, y + 3.0, 7.0, GREY, &short(v));
        }
        for k in 0..=4 {
            let v = x0 + (x1 - x0) * k as f64 / 4.0;
            let x = sx(v);
            self.line(vec![(x, bottom), (x, bottom + 3.0)], 0.6, GREY);
            self.text_at(x - 8.0, bottom + 11.0, 7.0, GREY, &short(v));
        }
        if let Some(m) = marker.filter(|m| (x0..=x1).contains(m)) {
            let x = sx(m);
            self.line(vec![(x, top), (x, bottom)], 0.8, RED);
        }
        let mut legend_x = left + 4.0;
        for (i, s) in series.iter().enumerate() {
            let color = SERIES[i % SERIES.len()];
            let pts: Vec<(f32, f32)> = s.points.iter().map(|(x, y)| (sx(*x), sy(*y))).collect();
            if pts.len() == 1 {
                let (x, y) = pts[0];
                self.line(vec![(x - 1.5, y), (x + 1.5, y)], 2.0, color);
            } else if pts.len() > 1 {
                self.line(pts, 1.0, color);
            }
            self.line(
                vec![(legend_x, top + 4.0), (legend_x + 10.0, top + 4.0)],
                1.5,
                color,
            );
            self.text_at(legend_x + 13.0, top + 7.0, 7.0, color, &s.label);
            legend_x += 20.0 + self.font.width(&s.label, 7.0);
        }
        self.text_at(
            right - self.font.width(x_label, 7.0),
            bottom + 20.0,
            7.0,
            GREY,
            x_label,
        );
        self.y = bottom + 24.0;
    }

    /// Renders every page with `footer(page, pages)` at its foot.
    pub fn finish(self, footer: impl Fn(usize, usize) -> String) -> Result<Vec<u8>, ServiceError> {
        let mut document = Document::new();
        // Parsed once for the whole report: krilla's `draw_text` parses the
        // face again for every string, and a CJK face's layout tables made
        // that most of a report's time.
        let face = rustybuzz::Face::from_slice(&self.font.data, self.font.index)
            .ok_or_else(|| ServiceError::Internal("the report font cannot be shaped".into()))?;
        let units_per_em = face.units_per_em() as f32;
        let total = self.pages.len();
        let settings = PageSettings::from_wh(PAGE_W, PAGE_H)
            .ok_or_else(|| ServiceError::Internal("page size".into()))?;
        for (n, ops) in self.pages.into_iter().enumerate() {
            let mut page = document.start_page_with(settings.clone());
            let mut surface = page.surface();
            let footer_text = footer(n + 1, total);
            let footer_op = Op::Text {
                x: MARGIN,
                y: PAGE_H - MARGIN + 10.0,
                size: 7.5,
                color: GREY,
                text: footer_text,
            };
            for op in ops.iter().chain(std::iter::once(&footer_op)) {
                match op {
                    Op::Text {
                        x,
                        y,
                        size,
                        color,
                        text,
                    } => {
                        surface.set_stroke(None);
                        surface.set_fill(Some(fill(*color)));
                        surface.draw_glyphs(
                            Point::from_xy(*x, *y),
                            &shape(&face, units_per_em, text),
                            self.font.font.clone(),
                            text,
                            *size,
                            false,
                        );
                    }
                    Op::Line {
                        points,
                        width,
                        color,
                    } => {
                        let mut path = PathBuilder::new();
                        for (i, (x, y)) in points.iter().enumerate() {
                            if i == 0 {
                                path.move_to(*x, *y);
                            } else {
                                path.line_to(*x, *y);
                            }
                        }
                        if let Some(path) = path.finish() {
                            surface.set_fill(None);
                            surface.set_stroke(Some(Stroke {
                                paint: rgb::Color::new(color.0, color.1, color.2).into(),
                                width: *width,
                                ..Stroke::default()
                            }));
                            surface.draw_path(&path);
                        }
                    }
                }
            }
            surface.finish();
            page.finish();
        }
        document
            .finish()
            .map_err(|e| ServiceError::Internal(format!("writing the report PDF: {e:?}")))
    }
}

/// `text` shaped left to right (the report's two languages both run so)
/// into glyphs whose advances are in ems, each with the bytes of `text` it
/// stands for (what a reader copying from the PDF gets).
fn shape(face: &rustybuzz::Face, units_per_em: f32, text: &str) -> Vec<KrillaGlyph> {
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(text);
    buffer.guess_segment_properties();
    buffer.set_direction(rustybuzz::Direction::LeftToRight);
    let shaped = rustybuzz::shape(face, &[], buffer);
    let infos = shaped.glyph_infos();
    let em = |v: i32| v as f32 / units_per_em;
    shaped
        .glyph_positions()
        .iter()
        .zip(infos)
        .enumerate()
        .map(|(i, (position, info))| {
            // A cluster ends where the next glyph's cluster starts.
            let start = info.cluster as usize;
            let end = infos[i + 1..]
                .iter()
                .map(|next| next.cluster as usize)
                .find(|&next| next != start)
                .unwrap_or(text.len());
            KrillaGlyph::new(
                GlyphId::new(info.glyph_id),
                em(position.x_advance),
                em(position.x_offset),
                em(position.y_offset),
                em(position.y_advance),
                start..end,
                None,
            )
        })
        .collect()
}

fn fill(c: Color) -> Fill {
    Fill {
        paint: rgb::Color::new(c.0, c.1, c.2).into(),
        opacity: NormalizedF32::ONE,
        rule: Default::default(),
    }
}

/// A tick label: integers plain, others with one decimal.
fn short(v: f64) -> String {
    if (v - v.round()).abs() < 0.05 {
        format!("{}", v.round() as i64)
    } else {
        format!("{v:.1}")
    }
}
