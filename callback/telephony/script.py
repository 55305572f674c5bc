"""What the automated call says besides the questions, in Mandarin: one script for every provider."""

# Said first on every recorded automated call, before anything else: the call is kept as evidence.
RECORDING_NOTICE = "本次通话将被录音。"
GREETING = (
    "您好，这里是供电公司用电业务回访。"
    "关于您近期办理的用电申请，想占用您一分钟时间，请直接说出您的回答，也可以用电话按键回答。"
)
INVALID_ENTRY = "对不起，您的输入无效。"
NO_ENTRY = "对不起，没有收到您的回答。"
NOT_UNDERSTOOD = "对不起，没有听清您的回答。"
CLOSING = "问题已经问完，感谢您对供电服务工作的支持，再见。"
HANDED_OVER = "对不起，没能听清您的回答，稍后会有工作人员与您联系。感谢您的支持，再见。"
ORDER_CANCELLED = "您的用电申请已经撤销，本次回访到此结束，感谢您的支持，再见。"
