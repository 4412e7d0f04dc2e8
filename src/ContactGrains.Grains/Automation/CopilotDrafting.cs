using ContactGrains.Bot;
using ContactGrains.Contracts;

namespace ContactGrains.Grains.Automation;

/// <summary>
/// When the bot drafts a reply for the agent of a copilot intent: only for a message it understood,
/// about an intent at the copilot level, and never for a request to speak to a person (there is
/// nothing to draft: the agent is the answer).
/// </summary>
public static class CopilotDrafting
{
    public static bool ShouldDraft(BotReply reply, AutomationLevel levelOfIntent, string humanRequestIntent) =>
        reply.Understood && reply.IntentId is { } intent && intent != humanRequestIntent && levelOfIntent == AutomationLevel.Copilot
        && !string.IsNullOrWhiteSpace(reply.Text);

    /// <summary>What became of a draft when the agent sent a message citing it: as the bot wrote it, or changed.</summary>
    public static DraftFate FateOf(CopilotDraft draft, string sentText) =>
        string.Equals(Normalise(draft.Text), Normalise(sentText), StringComparison.Ordinal) ? DraftFate.SentUnchanged : DraftFate.Edited;

    // A desktop may trim or re-wrap what it shows; that is not an edit.
    private static string Normalise(string text) => string.Join(' ', text.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));
}
