// Package urgency is the danger detector: it reads one message and says
// whether it shows danger now (someone may die or be seriously hurt today
// unless an adult acts). Every function is a pure function of the text: no
// state, no I/O, no logging, so that intake, the conversation and tools
// outside the package can score any set of messages the same way.
package urgency
