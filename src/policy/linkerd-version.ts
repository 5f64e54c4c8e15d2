// The Linkerd release whose behaviour the policy ports mirror: the linkerd2 `version-2.16` tag and
// the linkerd2-proxy release it ships. `meshsim --version` reports it next to meshsim's own.

/** The Linkerd version whose semantics meshsim simulates (major.minor). */
export const LINKERD_VERSION = "2.16";
