using ContactGrains.Grains.Conversations;

namespace ContactGrains.Grains.Ownership;

/// <summary>The sentence a handoff is recorded with (ledger, offer): every reason with the signal values behind it, for agents and supervisors.</summary>
public static class OwnershipExplanation
{
    public static string Describe(OwnershipDecision decision, ConversationState state)
    {
        var signals = decision.Signals;
        string Value(string key) => signals.TryGetValue(key, out var value) ? value : "?";
        var parts = decision.ReasonCodes.Select(code => code switch
        {
            OwnershipReasons.CustomerAskedForHuman => $"the customer asked for a human ('{Value("human-request")}')",
            OwnershipReasons.SensitiveTopic => signals.ContainsKey("topic")
                ? $"a sensitive topic that only a human handles ({Value("topic")}: '{Value("topic-cue")}')"
                : $"an intent that only a human handles ({Value("human-only-intent")})",
            OwnershipReasons.Frustration => $"the customer is frustrated (anger {Value("anger")}"
                + (signals.ContainsKey("anger-trend") ? $", {Value("anger-trend")} over the last messages" : "")
                + (signals.TryGetValue("anger-cues", out var cues) && cues.Length > 0 ? $": {cues}" : "") + ")",
            OwnershipReasons.RepeatedFailure => "the bot is not helping ("
                + string.Join(", ", new[]
                {
                    signals.TryGetValue("misses", out var misses) ? $"{misses} message(s) in a row not understood" : null,
                    signals.ContainsKey("did-not-help") ? "the customer said the answer did not help" : null,
                    signals.ContainsKey("asked-again") ? "the same question asked again" : null,
                }.OfType<string>()) + ")",
            OwnershipReasons.LowConfidence => $"a high-stakes matter ('{Value("high-stakes")}') the bot cannot answer with confidence ({Value("intent")} at {Value("confidence")})",
            OwnershipReasons.CustomerPreference => $"the customer prefers humans ({Value("prefers-humans")})",
            OwnershipReasons.RepeatContact => $"a repeat contact ({Value("repeat-contact")})",
            OwnershipReasons.Vip => "a VIP customer the bot could not serve at once",
            OwnershipReasons.HumanOnlyIntent => $"a human answers {Value("intent")}: its automation level is human-only",
            OwnershipReasons.CopilotIntent => $"a human answers {Value("intent")}: its automation level is copilot (the bot only drafts)",
            _ => code,
        });
        var sentence = string.Join("; ", parts);
        var context = (state.LastIntent is { } last ? $" The bot had answered '{last}'" : " The bot had answered no known topic")
            + (state.BotMisses > 0 ? $" and had not understood {state.BotMisses} message(s)." : ".");
        return char.ToUpperInvariant(sentence[0]) + sentence[1..] + "." + context;
    }
}
