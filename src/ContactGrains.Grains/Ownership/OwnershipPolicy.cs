using System.Collections.Immutable;
using System.Globalization;
using ContactGrains.Bot.Signals;
using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;

namespace ContactGrains.Grains.Ownership;

/// <summary>What the bot made of one customer message.</summary>
/// <param name="IntentId">Its best intent, even below the threshold; null if nothing matched.</param>
/// <param name="Skill">That intent's skill.</param>
/// <param name="Confidence">0–1.</param>
/// <param name="Understood">At or above the bot's threshold.</param>
/// <param name="AskedForHuman">The intent is the knowledge base's request for a human.</param>
public sealed record BotTurn(string? IntentId, string? Skill, double Confidence, bool Understood, bool AskedForHuman);

/// <summary>What the conversation knows of its customer when it starts.</summary>
/// <param name="Tier">Standard or VIP.</param>
/// <param name="PrefersHumans">They said, in an earlier conversation, that they prefer humans.</param>
/// <param name="EarlierIntents">Intents of their other conversations, with when the bot last saw each.</param>
public sealed record CustomerFacts(CustomerTier Tier, bool PrefersHumans, ImmutableArray<IntentContact> EarlierIntents)
{
    public static readonly CustomerFacts Unknown = new(CustomerTier.Standard, false, []);
}

/// <summary>Everything the policy weighs for one customer message.</summary>
/// <param name="Signals">What the message says beyond its topic.</param>
/// <param name="Bot">What the bot made of it.</param>
/// <param name="History">The conversation's earlier turns.</param>
/// <param name="Customer">The customer.</param>
/// <param name="FallbackSkill">Where a handoff goes when neither the topic nor this turn names a skill: the conversation's last topic, or the default.</param>
/// <param name="Now">The time of the message.</param>
/// <param name="IntentLevel">The automation level of the intent the bot understood (autonomous when none is set).</param>
public sealed record TurnFacts(
    TurnSignals Signals, BotTurn Bot, TurnHistory History, CustomerFacts Customer, string FallbackSkill, DateTimeOffset Now,
    AutomationLevel IntentLevel = AutomationLevel.Autonomous);

/// <summary>
/// The policy's answer for one turn: keep the bot, or hand over to the queue of <see cref="Skill"/>
/// with <see cref="Priority"/>, for <see cref="ReasonCodes"/> (the first is the main one) because of
/// <see cref="Signals"/> (name → value, what a supervisor reads in the ledger).
/// </summary>
public sealed record OwnershipDecision(
    bool HandOver,
    string? Skill,
    int Priority,
    ImmutableArray<string> ReasonCodes,
    ImmutableSortedDictionary<string, string> Signals)
{
    public string? MainReason => ReasonCodes.IsDefaultOrEmpty ? null : ReasonCodes[0];
}

/// <summary>
/// Decides, for every customer message while the bot owns the conversation, whether the bot keeps it
/// or a human takes over, and why. Pure: the same facts give the same decision, so it is tested on
/// tables (no cluster) and the conversation grain only records what it returns. A new signal is a new
/// field of <see cref="TurnSignals"/> and a new rule here, not an edit of the grain.
/// </summary>
public sealed class OwnershipPolicy(OwnershipOptions options)
{
    /// <summary>The reasons in the order they are reported: the first that applies is the main one.</summary>
    public static readonly ImmutableArray<string> ReasonOrder =
    [
        OwnershipReasons.CustomerAskedForHuman,
        OwnershipReasons.SensitiveTopic,
        OwnershipReasons.HumanOnlyIntent,
        OwnershipReasons.CopilotIntent,
        OwnershipReasons.Frustration,
        OwnershipReasons.RepeatedFailure,
        OwnershipReasons.LowConfidence,
        OwnershipReasons.CustomerPreference,
        OwnershipReasons.RepeatContact,
        OwnershipReasons.Vip,
    ];

    public OwnershipOptions Options => options;

    public OwnershipDecision Decide(TurnFacts facts)
    {
        var (signals, bot, history, customer) = (facts.Signals, facts.Bot, facts.History, facts.Customer);
        var reasons = new HashSet<string>(StringComparer.Ordinal);
        var values = ImmutableSortedDictionary.CreateBuilder<string, string>(StringComparer.Ordinal);

        if (signals.HumanRequest == HumanRequest.Explicit
            || (bot.AskedForHuman && bot.Understood && !signals.AsksIfBot && signals.HumanRequest != HumanRequest.Negated))
        {
            reasons.Add(OwnershipReasons.CustomerAskedForHuman);
            values["human-request"] = signals.HumanCue ?? bot.IntentId ?? "";
        }

        var topic = signals.SensitiveTopic is { } named && options.HumanOnlyTopics.Contains(named) ? named : null;
        var humanOnlyIntent = bot.Understood && bot.IntentId is { } intent && options.HumanOnlyIntents.Contains(intent);
        if (topic is not null || humanOnlyIntent)
        {
            reasons.Add(OwnershipReasons.SensitiveTopic);
            if (topic is not null)
            {
                values["topic"] = topic;
                values["topic-cue"] = signals.SensitiveCue ?? "";
            }

            if (humanOnlyIntent)
            {
                values["human-only-intent"] = bot.IntentId!;
            }
        }

        // The understood intent's automation level: below supervised, a human answers it.
        if (bot.Understood && !bot.AskedForHuman && bot.IntentId is not null && !humanOnlyIntent
            && facts.IntentLevel is AutomationLevel.HumanOnly or AutomationLevel.Copilot)
        {
            reasons.Add(facts.IntentLevel == AutomationLevel.HumanOnly ? OwnershipReasons.HumanOnlyIntent : OwnershipReasons.CopilotIntent);
            values["automation-level"] = Automation.AutomationLevels.Name(facts.IntentLevel);
        }

        var askedAgain = IsAskedAgain(facts);
        var anger = signals.Anger + (askedAgain ? 0.3 : 0);
        var (angryTurns, angerSum) = AngerTrend(history.RecentAnger, anger, options.AngerTrendTurns);
        if (anger >= options.AngerThreshold
            || (angryTurns >= 2 && angerSum >= options.AngerTrendThreshold))
        {
            reasons.Add(OwnershipReasons.Frustration);
        }

        if (anger > 0)
        {
            values["anger"] = Format(Math.Min(1, anger));
            values["anger-cues"] = string.Join(",", askedAgain ? signals.AngerCues.Add("asked-again") : signals.AngerCues);
        }

        if (angryTurns >= 2)
        {
            values["anger-trend"] = Format(angerSum);
        }

        var misses = ConsecutiveMisses(facts);
        if (misses > 0)
        {
            values["misses"] = misses.ToString(CultureInfo.InvariantCulture);
        }

        // "That didn't help", or "still not working" right after an answer: the answer failed.
        var saidItDidNotHelp = (signals.SaysItDidNotHelp || signals.AngerCues.Contains("still-not-working")) && history.CustomerTurns > 0;
        if (misses >= options.MaxConsecutiveMisses || saidItDidNotHelp || askedAgain)
        {
            reasons.Add(OwnershipReasons.RepeatedFailure);
            if (saidItDidNotHelp)
            {
                values["did-not-help"] = "true";
            }

            if (askedAgain)
            {
                values["asked-again"] = "true";
            }
        }

        // A message about money, cards, accounts or security that the bot cannot answer with
        // confidence (it missed, or matched a topic of another kind without much certainty): a wrong
        // self-service answer here costs the customer, so a human answers instead.
        var highStakesIntent = bot.IntentId is { } i && options.HighStakesIntents.Contains(i);
        var vague = signals.Terms.Length <= 2 && bot.Confidence < options.VagueConfidence;
        if (signals.StakesCue is { } stakesCue && !signals.IsSmallTalk && !reasons.Contains(OwnershipReasons.CustomerAskedForHuman)
            && (!bot.Understood || vague || (bot.Confidence < options.HighStakesConfidence && !highStakesIntent)))
        {
            reasons.Add(OwnershipReasons.LowConfidence);
            values["high-stakes"] = stakesCue;
        }

        if (bot.IntentId is not null)
        {
            values["intent"] = bot.IntentId;
            values["confidence"] = Format(bot.Confidence);
        }

        if (signals.PrefersHumans || (customer.PrefersHumans && history.CustomerTurns == 0))
        {
            reasons.Add(OwnershipReasons.CustomerPreference);
            values["prefers-humans"] = signals.PrefersHumans ? "said now" : "said before";
        }

        var recent = customer.EarlierIntents.Where(c => facts.Now - c.At <= options.RepeatContactWindow).ToList();
        if (bot.Understood && !bot.AskedForHuman && bot.IntentId is { } repeated && !history.Intents.Contains(repeated)
            && recent.FirstOrDefault(c => c.IntentId == repeated) is { } earlier)
        {
            reasons.Add(OwnershipReasons.RepeatContact);
            values["repeat-contact"] = $"{repeated} {Format((facts.Now - earlier.At).TotalDays)} days ago";
        }
        else if (history.CustomerTurns == 0 && signals.AngerCues.Contains("still-not-working") && recent.Count > 0)
        {
            // "My parcel still hasn't turned up", from a customer who wrote days ago: the same matter.
            reasons.Add(OwnershipReasons.RepeatContact);
            values["repeat-contact"] = $"'still' after a contact {Format((facts.Now - recent.Max(c => c.At)).TotalDays)} days ago";
        }

        var unsure = !bot.Understood || bot.Confidence < options.VipConfidence;
        if (customer.Tier == CustomerTier.Vip && ((unsure && !signals.IsSmallTalk) || anger >= options.VipAngerThreshold))
        {
            reasons.Add(OwnershipReasons.Vip);
        }

        if (customer.Tier == CustomerTier.Vip)
        {
            values["tier"] = "vip";
        }

        if (reasons.Count == 0)
        {
            return new OwnershipDecision(false, null, QueuePriority.Normal, [], values.ToImmutable());
        }

        var ordered = ReasonOrder.Where(reasons.Contains).ToImmutableArray();
        if (signals.PrefersHumans)
        {
            // "I'd always rather talk to a person": a preference first, which also asks for one now.
            ordered = ordered.Remove(OwnershipReasons.CustomerPreference).Insert(0, OwnershipReasons.CustomerPreference);
        }
        var skill = topic is not null && options.TopicSkills.TryGetValue(topic, out var topicSkill) ? topicSkill
            : bot.Understood && !bot.AskedForHuman && bot.Skill is { } turnSkill ? turnSkill
            : facts.FallbackSkill;
        var escalated = reasons.Contains(OwnershipReasons.Frustration) || reasons.Contains(OwnershipReasons.RepeatedFailure)
            || reasons.Contains(OwnershipReasons.SensitiveTopic) || misses >= options.MaxConsecutiveMisses;
        var priority = customer.Tier == CustomerTier.Vip ? QueuePriority.Vip
            : escalated ? QueuePriority.EscalatedAfterBotFailure
            : QueuePriority.Normal;
        return new OwnershipDecision(true, skill, priority, ordered, values.ToImmutable());
    }

    /// <summary>The conversation's history after this turn (pure, like <see cref="Decide"/>).</summary>
    /// <summary>
    /// Over the last <paramref name="turns"/> messages, this one (<paramref name="anger"/>) included:
    /// how many were angry at all, and their anger added up. Judged on every message, so no LINQ.
    /// </summary>
    private static (int AngryTurns, double Sum) AngerTrend(ImmutableArray<double> earlier, double anger, int turns)
    {
        if (turns <= 0)
        {
            return (0, 0);
        }

        // Oldest first, as the history is kept: the sum is compared with a threshold to the last bit.
        var (angry, sum) = (0, 0.0);
        for (var i = Math.Max(0, earlier.Length - (turns - 1)); i < earlier.Length; i++)
        {
            angry += earlier[i] > 0 ? 1 : 0;
            sum += earlier[i];
        }

        return (angry + (anger > 0 ? 1 : 0), sum + anger);
    }

    public TurnHistory Advance(TurnFacts facts)
    {
        var (signals, bot, history) = (facts.Signals, facts.Bot, facts.History);
        var anger = signals.Anger + (IsAskedAgain(facts) ? 0.3 : 0);
        var intents = bot.Understood && !bot.AskedForHuman && bot.IntentId is { } intent && !history.Intents.Contains(intent)
            ? history.Intents.Add(intent)
            : history.Intents;
        return new TurnHistory(
            history.CustomerTurns + 1,
            ConsecutiveMisses(facts),
            KeepLast(history.RecentAnger, anger, options.AngerTrendTurns),
            KeepLast(history.RecentTerms, signals.Terms, TurnHistory.TermsKept),
            bot.Understood && !bot.AskedForHuman ? bot.IntentId : history.LastIntent,
            intents.Length > TurnHistory.IntentsKept ? intents[^TurnHistory.IntentsKept..] : intents);
    }

    // Small talk neither counts as a miss nor breaks a run of misses.
    private static int ConsecutiveMisses(TurnFacts facts) =>
        facts.Bot.Understood ? 0
        : facts.Signals.IsSmallTalk || facts.Signals.HumanRequest == HumanRequest.Explicit ? facts.History.ConsecutiveMisses
        : facts.History.ConsecutiveMisses + 1;

    /// <summary>The same question again: the bot answered it (same intent) or missed it (similar words) just before.</summary>
    private bool IsAskedAgain(TurnFacts facts)
    {
        var terms = facts.Signals.Terms;
        if (terms.Length < 2 || facts.Signals.IsSmallTalk)
        {
            return false;
        }

        var similar = false;
        foreach (var earlier in facts.History.RecentTerms)
        {
            if (Similarity(terms, earlier) >= options.SameQuestionSimilarity)
            {
                similar = true;
                break;
            }
        }

        var sameIntent = facts.Bot.Understood && facts.Bot.IntentId is { } intent && intent == facts.History.LastIntent;
        return similar && (sameIntent || !facts.Bot.Understood);
    }

    private static double Similarity(ImmutableArray<string> a, ImmutableArray<string> b)
    {
        if (a.IsDefaultOrEmpty || b.IsDefaultOrEmpty)
        {
            return 0;
        }

        var shared = 0;
        foreach (var term in a)
        {
            if (b.Contains(term))
            {
                shared++;
            }
        }

        return (double)shared / (a.Length + b.Length - shared);
    }

    /// <summary>The newest <paramref name="count"/> of <paramref name="items"/> once <paramref name="added"/> is appended to them.</summary>
    private static ImmutableArray<T> KeepLast<T>(ImmutableArray<T> items, T added, int count)
    {
        items = items.IsDefault ? [] : items;
        var kept = Math.Min(items.Length, Math.Max(0, count - 1));
        var result = ImmutableArray.CreateBuilder<T>(kept + (count > 0 ? 1 : 0));
        result.AddRange(items.AsSpan(items.Length - kept, kept));
        if (count > 0)
        {
            result.Add(added);
        }

        return result.MoveToImmutable();
    }

    private static string Format(double value) => value.ToString("0.##", CultureInfo.InvariantCulture);
}
