//! End of data: turn what was decoded into a [`TestFile`], with the warning that says where and
//! why a partial read stopped.

use super::*;

impl Decoder {
    /// End of data. `rest` is what the last [`feed`](Self::feed) did not consume: empty for a
    /// complete file, else a record cut short (reported as a warning; everything before is kept).
    pub fn finish(mut self, rest: &[u8]) -> Result<TestFile, ReadError> {
        if self.order.is_none() {
            return Err(self.not_started(rest));
        }
        if !rest.is_empty() && !self.stopped {
            let stop = match self.order {
                Some(ByteOrder::Big) => stop_of::<Be>(rest),
                _ => stop_of::<Le>(rest),
            };
            let (rtype, kind) = match stop {
                Some(Stop::Body {
                    rtype,
                    claimed,
                    available,
                    ..
                }) => {
                    // The header was read, so the record is counted (as independent scanners
                    // do); its body is not decoded.
                    self.count(rtype);
                    (Some(rtype), WarningKind::Truncated { claimed, available })
                }
                Some(Stop::Header { available, .. }) => {
                    (None, WarningKind::TruncatedHeader { available })
                }
                None => unreachable!("rest is not empty"),
            };
            self.warn(self.offset, rtype, kind);
        }
        Ok(self.build())
    }

    /// End of data because the input failed (`message`), after `rest` unconsumed bytes.
    /// Before the FAR this is an error; after it, a partial read.
    pub fn finish_with_error(
        mut self,
        rest: &[u8],
        message: String,
    ) -> Result<TestFile, ReadError> {
        if self.order.is_none() {
            let at = self.at(self.offset + rest.len() as u64, None);
            let kind = match self.compression {
                Compression::None => ReadErrorKind::Io(message),
                c => ReadErrorKind::Decompress { format: c, message },
            };
            return Err(ReadError { at, kind });
        }
        let kind = match self.compression {
            Compression::None => WarningKind::Io(message),
            c => WarningKind::Decompress { format: c, message },
        };
        // Where the good data ends: after the last whole record.
        self.warn(self.offset, None, kind);
        Ok(self.build())
    }

    fn not_started(&self, rest: &[u8]) -> ReadError {
        if rest.is_empty() {
            return ReadError {
                at: self.at(0, None),
                kind: ReadErrorKind::Empty,
            };
        }
        ReadError {
            at: self.at(0, None),
            kind: ReadErrorKind::NotStdf {
                first_bytes: rest[..rest.len().min(8)].to_vec(),
            },
        }
    }

    fn build(mut self) -> TestFile {
        if self.suppressed > 0 {
            let at = self.at(self.offset, None);
            // Reported through a generic short-record warning count: keep the list bounded.
            self.file.warnings.push(Warning {
                at,
                kind: WarningKind::Suppressed {
                    count: self.suppressed,
                },
                file: String::new(),
            });
        }
        let mut file = self.file;
        for &k in &self.seen {
            let t = RecordType::new((k >> 8) as u8, k as u8);
            file.record_counts
                .push(((t.typ, t.sub), self.counts[k as usize]));
        }
        file.records_total = file.record_counts.iter().map(|&(_, n)| n).sum();
        file.bytes_read = self.offset;

        for (t, info) in file.tests.tests.iter_mut().enumerate() {
            info.executions = self.test_exec[t].total();
            info.failures = self.test_fail[t].total();
        }
        for (n, tally) in &self.hard_counts {
            file.bins.hard.get_mut(n).expect("tallied bins exist").count = tally.total();
        }
        for (n, tally) in &self.soft_counts {
            file.bins.soft.get_mut(n).expect("tallied bins exist").count = tally.total();
        }

        let geometry = self.geometry.unwrap_or_default();
        for (w, table) in file.wafers.iter_mut().zip(self.tables) {
            w.geometry = geometry.clone();
            let (first, results) = table.finish(&mut w.dies, &file.bins);
            (w.first_pass, w.first_results) = (first, Some(results));
        }
        // Loose parts have no coordinates, so no retests: nothing to keep.
        self.loose.finish(&mut file.loose_parts, &file.bins);
        file
    }
}

fn stop_of<E: Endian>(rest: &[u8]) -> Option<Stop> {
    let mut it = Records::<E>::new(rest);
    for _ in &mut it {}
    it.stop()
}
