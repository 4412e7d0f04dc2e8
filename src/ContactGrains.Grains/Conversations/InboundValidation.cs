using ContactGrains.Contracts;

namespace ContactGrains.Grains.Conversations;

/// <summary>The checks a customer message must pass before it is stored, wherever it enters.</summary>
public static class InboundValidation
{
    /// <summary>Returns why <paramref name="text"/> cannot be stored, or null when it can.</summary>
    public static string? CheckText(string? text)
    {
        if (string.IsNullOrWhiteSpace(text))
        {
            return "text is empty: a customer message needs at least one visible character.";
        }

        if (text.Length > ConversationLimits.MaxTextLength)
        {
            return $"text is {text.Length} characters long; the limit is {ConversationLimits.MaxTextLength}. Split it into several messages.";
        }

        return null;
    }

    /// <summary>Returns why an adapter-supplied id cannot be used, or null when it can.</summary>
    public static string? CheckId(string? id, string fieldName)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            return $"{fieldName} is required.";
        }

        if (id.Length > ConversationLimits.MaxIdLength)
        {
            return $"{fieldName} is {id.Length} characters long; the limit is {ConversationLimits.MaxIdLength}.";
        }

        return null;
    }
}
