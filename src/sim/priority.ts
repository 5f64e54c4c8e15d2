// Same-instant ordering is decided here and only here. Events are ordered by the total key
// (atUs, priority, seq): earlier time first; at the same microsecond, lower priority first; at the
// same priority, the order in which they were scheduled (seq). The table below is the contract.
//
// | priority   | value | what runs at this level                     | why it goes here                         |
// |------------|-------|---------------------------------------------|------------------------------------------|
// | World      | 0     | faults and heals, cluster/pod lifecycle     | the world changes before anyone acts in it |
// | Control    | 10    | control-plane updates reaching consumers    | config that takes effect "now" applies to work arriving now |
// | Completion | 20    | work finishing, messages arriving           | a response arriving at the same µs as its timeout wins |
// | Timeout    | 30    | deadlines and timers firing                 | only fires if nothing completed at that instant |
// | Arrival    | 40    | new work entering the system                | sees the state left by completions and timeouts |
// | Default    | 50    | anything else                               |                                          |
// | Sample     | 90    | measurement: bucket roll-over, probes of state | observes the instant after everything else |

export const Priority = {
  World: 0,
  Control: 10,
  Completion: 20,
  Timeout: 30,
  Arrival: 40,
  Default: 50,
  Sample: 90,
} as const;

export type Priority = (typeof Priority)[keyof typeof Priority];
