//! WIR and WRR: where a wafer opens and closes on a head, and a WIR that reopens a wafer by id.

use super::*;

impl Decoder {
    pub(super) fn wir<E: Endian>(&mut self, b: &[u8], at: u64) {
        let mut f = Fields::<E>::new(b);
        let Some(head) = f.u1() else { return };
        let site_group = f.u1().unwrap_or(255);
        let start_time = f.u4().unwrap_or(0);
        let id = f.cn().unwrap_or_default();
        let open = self.open_wafer[head as usize];
        if open != NONE {
            let wafer_id = self.file.wafers[open as usize].id.clone();
            self.warn(
                at,
                Some(RecordType::WIR),
                WarningKind::WaferNotClosed { wafer_id },
            );
        }
        let again = (!id.is_empty())
            .then(|| self.wafer_ids.get(&(head, id.clone())).copied())
            .flatten();
        let index = match again {
            Some(i) => i as usize,
            None => {
                let id_len = 2 * id.len() as u64;
                let i = self.file.wafers.len();
                if !id.is_empty() {
                    self.wafer_ids.insert((head, id.clone()), i as u32);
                }
                self.file.wafers.push(Wafer {
                    id,
                    head,
                    site_group,
                    start_time,
                    ..Wafer::default()
                });
                self.tables.push(TableBuilder::default());
                self.held += WAFER_HELD + id_len;
                i
            }
        };
        self.open_wafer[head as usize] = index as u32;
    }

    pub(super) fn wrr<E: Endian>(&mut self, b: &[u8], at: u64) {
        let mut f = Fields::<E>::new(b);
        let Some(head) = f.u1() else { return };
        let _site_group = f.u1();
        let finish_time = f.u4().unwrap_or(0);
        let counts = WrrCounts {
            part_count: f.u4().unwrap_or(0),
            retest_count: f.u4().unwrap_or(u32::MAX),
            abort_count: f.u4().unwrap_or(u32::MAX),
            good_count: f.u4().unwrap_or(u32::MAX),
            functional_count: f.u4().unwrap_or(u32::MAX),
        };
        let id = f.cn().unwrap_or_default();
        let open = self.open_wafer[head as usize];
        if open == NONE {
            self.warn(at, Some(RecordType::WRR), WarningKind::WaferEndWithoutStart);
            return;
        }
        let w = &mut self.file.wafers[open as usize];
        w.finish_time = finish_time;
        w.wrr = Some(counts);
        if w.id.is_empty() && !id.is_empty() {
            self.wafer_ids.entry((head, id.clone())).or_insert(open);
            w.id = id;
        }
        self.open_wafer[head as usize] = NONE;
    }
}
