// Property tests draw from a fixed seed so every run (and CI) explores the same cases; set
// FC_SEED to explore others locally.
import fc from "fast-check";

fc.configureGlobal({ seed: Number(process.env["FC_SEED"] ?? 20_261_126) });
