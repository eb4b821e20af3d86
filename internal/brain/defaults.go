package brain

// DefaultThresholds returns the confidence limits a new workspace starts with.
func DefaultThresholds() Thresholds {
	return Thresholds{Answer: 0.74, Draft: 0.55}
}

// DefaultCategories returns the restricted categories a new workspace starts
// with, in the order they are tried. Phrases use the syntax of Category.
func DefaultCategories() []Category {
	return []Category{
		{
			Name: "security",
			Description: "Fraud, lost or stolen cards and phones, payments or access the " +
				"customer does not recognise, hacked, blocked or frozen accounts.",
			Phrases: []string{
				"fraud", "fraudulent", "scam", "scammed", "scammer", "stolen", "stole",
				"theft", "thief", "hacked", "hacker", "hijacked", "compromised",
				"phishing", "identity theft", "unauthorised|unauthorized",
				"someone|somebody used|using|accessed|took",
				"someone|somebody else", "not|didnt|dont|never make|made|do|put|" +
					"deposit|withdraw|take|authorise|authorize|recognise|recognize|remember",
				"not|wasnt|isnt mine", "wasnt me",
				"unrecognised|unrecognized|unfamiliar|suspicious|strange|unknown|" +
					"unexpected money|" +
					"payment|charge|transaction|withdrawal|debit|login|activity",
				"lost|lose|misplaced|missing card|phone|wallet",
				"card|phone|wallet lost|missing|stolen",
				"block|freeze|frozen|blocked|locked|suspended|hold card|account",
				"account|card blocked|frozen|locked|suspended|hold|stop",
				"locked out", "cant|cannot access account",
			},
			Examples: []string{
				"someone took money out of my account and it was not me",
				"there is a payment on my statement that I never made",
				"I think my card details have been stolen",
				"my phone was taken and my banking app is on it",
				"please stop my card right away, I can't find it",
				"why has my account been frozen",
				"I got an email asking for my password, is it really from you",
				"there is a withdrawal I don't know anything about",
			},
		},
		{
			Name: "payment_dispute",
			Description: "Refunds, double or wrong charges, wrong amounts or exchange " +
				"rates, failed or disputed payments.",
			Phrases: []string{
				"refund", "refunded", "refunding", "reimburse", "reimbursement",
				"money back", "chargeback", "charge back", "dispute", "disputed",
				"charged|billed|paid twice|double", "charged|billed|paid two times",
				"double|duplicate charge|charged|payment|billing",
				"charged|billed|paid|showing|shows|appears multiple|several|many times",
				"multiple|several|duplicate charges|payments|transactions",
				"overcharged", "overcharge",
				"wrong|incorrect|different|bad|error|mistake|mistaken amount|rate|price|charge",
				"amount|rate|price|charge wrong|incorrect|bad|different|error",
				"extra|unexpected|hidden|additional charge|fee",
				"compensation", "compensate",
				"return money|payment",
			},
			DeferToKB: true,
			Examples: []string{
				"I want my money back for this order",
				"the amount taken from my account is not what I agreed to pay",
				"you took the payment two times",
				"the exchange rate you used is wrong",
				"the seller never sent the item and I want the payment reversed",
				"I was charged more than the price shown",
				"my payment did not go through but the money left my account",
			},
		},
		{
			Name: "privacy",
			Description: "Closing or deleting an account, erasing personal data, data " +
				"protection requests.",
			Phrases: []string{
				"delete|close|remove|erase|terminate|deactivate|cancel account|profile",
				"account deletion|closure|termination|cancellation|removal",
				"delete|remove|erase data|information|details",
				"personal data|information", "gdpr", "ccpa",
				"right to be forgotten", "data protection",
				"what data|information do have about|on",
			},
			Examples: []string{
				"I no longer want to be your customer, shut my account down",
				"please wipe everything you store about me",
				"how do I get rid of my account for good",
				"send me a copy of the data you keep about me",
			},
		},
		{
			Name: "legal",
			Description: "Lawyers, lawsuits, regulators, court and other legal threats " +
				"or requests.",
			Phrases: []string{
				"lawyer", "lawyers", "attorney", "solicitor", "sue", "suing", "sued",
				"lawsuit", "legal action", "legal department", "court", "small claims",
				"ombudsman", "regulator", "subpoena", "class action", "trading standards",
				"consumer protection",
			},
			Examples: []string{
				"I will be taking this matter to court",
				"my legal representative will contact you",
				"I am going to report your company to the authorities",
			},
		},
		{
			Name: "angry",
			Description: "Complaints, abuse, swearing, shouting and customers the AI " +
				"is not helping.",
			Phrases: []string{
				"*fuck*", "*shit*", "*damn*", "crap", "crappy", "wtf", "*asshole*",
				"bastard", "bastards", "bitch", "pissed", "piss off", "bloody", "hell",
				"idiot", "idiots", "stupid", "moron", "useless", "worthless",
				"ridiculous", "pathetic", "disgusting", "disgrace", "unacceptable",
				"outrageous", "appalling", "horrible", "terrible", "awful", "worst",
				"incompetent", "furious", "angry", "livid", "fed up", "sick of",
				"tired of", "annoyed", "frustrated", "frustrating",
				"not|doesnt|isnt|didnt|no help|helping|helpful",
				"waste of time", "complaint", "complain", "complaining",
			},
			Examples: []string{
				"this is the third time I am asking and nobody answers",
				"your service is a joke",
				"I have been waiting for weeks and I am losing my patience",
				"you people never fix anything",
				"I am very unhappy with how I was treated",
				"I want to make a formal complaint about your staff",
			},
		},
		{
			Name: "human_request",
			Description: "The customer asks for a person: an agent, a representative, " +
				"a manager or a phone call.",
			Phrases: []string{
				"speak|talk|chat|contact|call|reach|connect|transfer|get human|person|" +
					"agent|someone|somebody|representative|rep|operator|manager|" +
					"supervisor|staff|people|employee|assistant|advisor",
				"human|real|live|actual person|agent|being|representative|operator",
				"customer service|support representative|agent|person",
				"not|dont|no bot|robot|machine", "call me", "call back", "phone call",
			},
			Examples: []string{
				"can I please have a word with one of your staff",
				"I would rather deal with a real person than a bot",
				"put me through to somebody who can help",
				"is there anyone there I can talk to",
			},
		},
	}
}
