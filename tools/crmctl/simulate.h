#ifndef CRM_TOOLS_CRMCTL_SIMULATE_H_
#define CRM_TOOLS_CRMCTL_SIMULATE_H_

// crmctl simulate: a sales organisation played against a running platform,
// day by day on the platform's clock, deterministic from a seed. Leads
// arrive on three channels with their costs; reps claim, qualify, follow up,
// disqualify and convert them with a deal; deals get lines from the price
// book and are won (a contract through approval, confirmation, a payment
// plan of two installments, paid on time, late or not at all) or lost with
// a manager's approval; customer service delivers a kick-off milestone per
// contract, and a third of the customers who pay in full renew. Reps touch
// their customers and release some to the public pool, where others claim
// them or reserve them (complete the profile, claim, sometimes sign a first
// contract); once a week a rep meets a company another rep owns and files a
// conflict. At the end, analytics (fed only by the topics) is checked
// against what the simulator did: the funnel's counts and won amount, the
// receivables (also against the contract service) and the pool's moves,
// conflicts, reservations and reservation-lead signings.
//
// On a platform started with simulated time (--clock-start, --clock-origin
// and --clock-rate, the same for every service and for crmctl), a day of
// the simulation waits for that day on the clock; without them every day
// happens now. The decisions depend only on the seed; the moments within a
// day depend on the machine's speed.

#include "tools/crmctl/client.h"

namespace crm::crmctl {

// Exit 0 when analytics agrees with what was done, 1 when it does not (the
// differences are printed), else the code of the error that stopped it.
int Simulate(Client& c, const Args& a);

}  // namespace crm::crmctl

#endif  // CRM_TOOLS_CRMCTL_SIMULATE_H_
