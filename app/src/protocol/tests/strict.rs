//! Fields of the wrong type are errors, not absent fields, and a request that does not decode
//! is still answered.

use super::*;

#[test]
fn a_mistyped_optional_field_is_an_error_not_absent() {
    let view = || {
        ToWorker::<Map>::Export {
            seq: 1,
            id: 7,
            export: Export::Csv { wafer: None },
        }
        .encode()
    };
    // Absent: the whole file's CSV.
    assert!(matches!(
        ToWorker::decode(&view()),
        Ok(ToWorker::Export {
            export: Export::Csv { wafer: None },
            ..
        })
    ));
    // A wafer id that is no string must not write every wafer instead.
    let mut w = view();
    w.put_num("wafer", 3.0);
    let missing = |kind, field| Err(DecodeError::Missing { kind, field });
    assert_eq!(ToWorker::decode(&w), missing("export", "wafer"));
    // A marked die or a wafer index given as a string must not draw without them.
    for field in ["selected", "index"] {
        let mut w = ToWorker::<Map>::Export {
            seq: 1,
            id: 7,
            export: Export::View {
                wafer: Some(0),
                table: vec![[1, 2, 3, 255]],
                keys: vec![0],
                view: paint::View {
                    scale: 1.0,
                    offset: [0.0, 0.0],
                },
                width: 10,
                height: 10,
                selected: None,
            },
        }
        .encode();
        w.put_str(field, "3");
        assert_eq!(ToWorker::decode(&w), missing("export", field));
    }
    // An error field that is no string is not an answer without error.
    let mut w = FromWorker::<Map>::Answer {
        id: 2,
        answer: Ok("{}".into()),
    }
    .encode();
    w.put_num("error", 1.0);
    assert_eq!(
        FromWorker::decode(&w),
        Err(DecodeError::Missing {
            kind: "answer",
            field: "error"
        })
    );
}

#[test]
fn a_request_that_does_not_decode_is_answered_by_its_id() {
    let mut w = ToWorker::<Map>::Export {
        seq: 1,
        id: 9,
        export: Export::Csv { wafer: None },
    }
    .encode();
    w.put_str("what", "pdf");
    assert!(ToWorker::decode(&w).is_err());
    let pending = ToWorker::pending(&w);
    assert_eq!(pending, Some(Pending::Export(9)));
    // Its answer travels and reads back as the error, under the request's id.
    let answer = pending.unwrap().failed::<Map>("no pdf".into()).encode();
    assert_eq!(
        FromWorker::decode(&answer),
        Ok(FromWorker::Exported {
            id: 9,
            blob: Err("no pdf".into())
        })
    );
    let mut w = ToWorker::<Map>::Ask {
        seq: 1,
        id: 4,
        json: "{}".into(),
    }
    .encode();
    w.0.remove("json");
    assert!(ToWorker::decode(&w).is_err());
    assert_eq!(ToWorker::pending(&w), Some(Pending::Ask(4)));
    // Without a valid id, or for a message nobody waits on, there is nothing to answer.
    w.put_str("id", "4");
    assert_eq!(ToWorker::pending(&w), None);
    let mut w = Map::empty();
    w.put_str("kind", "demo");
    assert_eq!(ToWorker::pending(&w), None);
}
