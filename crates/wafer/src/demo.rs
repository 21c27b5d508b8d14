pub fn demo_files() -> Vec<()> {
    vec![]
}
