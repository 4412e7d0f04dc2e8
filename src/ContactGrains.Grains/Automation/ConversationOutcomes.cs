using ContactGrains.Contracts;
using ContactGrains.Grains.Conversations;

namespace ContactGrains.Grains.Automation;

/// <summary>What a conversation that ends counts as, for its intent's figures.</summary>
public static class ConversationOutcomes
{
    /// <summary>
    /// Who resolved it: an agent who owned it (after the bot answered at least once, or alone), or
    /// the bot when no human was ever involved and it answered something. Null when nobody did: it
    /// was handed over and the customer left before an agent took it, or the bot answered nothing.
    /// </summary>
    public static ResolvedBy? ResolvedByOf(ConversationState state)
    {
        if (state.Ledger.Any(change => change.To.Kind == OwnerKind.Agent))
        {
            return state.BotAnsweredTurns > 0 ? ResolvedBy.HumanAfterBot : ResolvedBy.Human;
        }

        if (state.Ledger.Any(change => change.To.Kind == OwnerKind.Queue))
        {
            return null;
        }

        return state.BotAnsweredTurns > 0 ? ResolvedBy.Bot : null;
    }
}
