using ContactGrains.Bot;
using ContactGrains.Bot.Signals;
using ContactGrains.Contracts;

namespace ContactGrains.Grains.Ownership;

/// <summary>One customer message judged: the bot's reply, the message's signals, and the policy's decision.</summary>
/// <param name="Reply">What the bot would answer.</param>
/// <param name="Signals">What the message says beyond its topic.</param>
/// <param name="Facts">What the policy weighed.</param>
/// <param name="Decision">Bot or human, and why.</param>
/// <param name="History">The conversation's history after this message.</param>
public sealed record JudgedTurn(BotReply Reply, TurnSignals Signals, TurnFacts Facts, OwnershipDecision Decision, TurnHistory History);

/// <summary>
/// Runs one customer message through the bot, the signal detector and the ownership policy. The
/// conversation grain calls it once per customer turn while the bot owns the conversation; the
/// judgement table replays dialogues through the same code, without a cluster. The understood
/// intent's automation level comes from <c>levelOf</c> (this silo's copy of the policy).
/// </summary>
public sealed class TurnJudge(IBot bot, ISignalDetector detector, OwnershipPolicy policy, string humanRequestIntent, Func<string, AutomationLevel>? levelOf = null)
{
    public async Task<JudgedTurn> JudgeAsync(
        string text, string? language, TurnHistory history, CustomerFacts customer, string fallbackSkill, DateTimeOffset now)
    {
        var reply = await bot.ReplyAsync(new BotRequest(text, language));
        var signals = detector.Detect(text, reply.Language);
        if (signals.HumanRequest == HumanRequest.Negated && reply.IntentId == humanRequestIntent)
        {
            // "I don't need an adviser, just …": the bot answers what they asked instead.
            reply = await bot.ReplyAsync(new BotRequest(signals.Remainder ?? "", reply.Language));
        }

        var turn = new BotTurn(reply.IntentId, reply.Skill, reply.Confidence, reply.Understood, reply.IntentId == humanRequestIntent);
        var level = reply.IntentId is { } intent && levelOf is not null ? levelOf(intent) : AutomationLevel.Autonomous;
        var facts = new TurnFacts(signals, turn, history, customer, fallbackSkill, now, level);
        var decision = policy.Decide(facts);
        if (!decision.HandOver && turn.AskedForHuman && reply.Understood)
        {
            // The bot matched "speak to an agent" but nobody is being called ("are you a bot?", "I
            // won't talk to anyone, just …"): its answer would promise an adviser. It answers the
            // rest of the message instead, or says it did not understand.
            reply = await bot.ReplyAsync(new BotRequest(signals.Remainder ?? "", reply.Language));
        }

        return new JudgedTurn(reply, signals, facts, decision, policy.Advance(facts));
    }
}
