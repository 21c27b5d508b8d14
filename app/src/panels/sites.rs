//! Probe sites: yield and bins per (head, site), and the test the map shows per site, for the
//! wafer shown or every wafer (`waferscope sites` prints the same numbers). A site whose mean
//! sits far from the others is the classic tester fault, so the largest gap is called out.

use leptos::prelude::*;
use paint::Layer;
use stats::ask::{Answer, Ask};

use crate::doc::Subject;
use crate::state::St;

#[component]
pub fn Sites() -> impl IntoView {
    let st = expect_context::<St>();
    let asked = crate::ask::asked(st, move || {
        let (_, s) = st.shown()?;
        // The first pass when the map shows it, as the zones and the reticle count.
        let (wafer, first_pass) = match s {
            Subject::Wafer(i) => (Some(i), st.first_pass.get()),
            Subject::Stack => (None, false),
        };
        let test = match st.layer.get() {
            Layer::Test(t) => Some(t),
            _ => None,
        };
        Some(Ask::Sites {
            wafer,
            first_pass,
            test,
        })
    });
    move || {
        let (doc, _) = st.shown()?;
        let f = &doc.file;
        let Some(shown) = asked() else {
            return Some(crate::ask::counting("sites", "sites", "Sites"));
        };
        let pending = shown.pending_attr();
        let sites = match &*shown.answer {
            Ok(Answer::Sites(s)) => s,
            other => return Some(crate::ask::failed("sites", "Sites", other)),
        };
        // The test the answer counted (while pending, maybe the test before).
        let test = match shown.ask {
            Ask::Sites { test, .. } => test,
            _ => None,
        };
        let json = serde_json::json!({ "sites": &sites }).to_string();
        let num = |v: Option<f64>| v.map_or("—".to_string(), |v| format!("{v:.4}"));
        // The site whose mean is farthest from the mean of the site means, in sigmas of the sites.
        let means: Vec<f64> = sites.iter().filter_map(|s| s.test.as_ref()?.mean).collect();
        let outlier = (means.len() > 2).then(|| {
            let m = means.iter().sum::<f64>() / means.len() as f64;
            sites
                .iter()
                .filter_map(|s| Some((s.site, (s.test.as_ref()?.mean? - m).abs())))
                .max_by(|a, b| a.1.total_cmp(&b.1))
                .map(|x| x.0)
        });
        let outlier = outlier.flatten();
        let rows: Vec<_> = sites
            .iter()
            .map(|s| {
                let y = s.tally.yield_.map_or("—".into(), |y| format!("{:.1}%", 100.0 * y));
                let t = s.test.clone();
                view! {
                    <tr data-site=s.site class:outlier=test.is_some() && outlier == Some(s.site)>
                        <td>{s.head}</td><td>{s.site}</td><td class="num">{s.tally.dies}</td><td class="num">{y}</td>
                        {t.map(|t| view! {
                            <td class="num">{t.fails}</td><td class="num">{num(t.mean)}</td><td class="num">{num(t.sigma)}</td>
                        })}
                    </tr>
                }
            })
            .collect();
        let name = test.and_then(|t| Some(f.tests.tests.get(t)?.number));
        Some(view! {
            <div class="panel sites" id="sites" data-count=sites.len() data-json=json data-pending=pending>
                <h3>{format!("Sites · {}", name.map_or("colour the map by a test for its means".into(), |n| format!("test {n}")))}</h3>
                <table>
                    <thead><tr><th>"head"</th><th>"site"</th><th>"dies"</th><th>"yield"</th>
                        {test.map(|_| view! { <th>"fails"</th><th>"mean"</th><th>"σ"</th> })}</tr></thead>
                    <tbody>{rows}</tbody>
                </table>
            </div>
        }.into_any())
    }
}
