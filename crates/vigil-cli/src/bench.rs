//! `vigil bench`: throughput figures for BENCHMARKS.md.
use anyhow::Result;
use clap::Subcommand;

#[derive(Subcommand)]
pub enum BenchCommand {}

pub fn run(c: &BenchCommand) -> Result<()> {
    match *c {}
}
