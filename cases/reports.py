from django.http import HttpResponse


def account(request, account: str):
    return HttpResponse("to do")


def engineer(request, name: str):
    return HttpResponse("to do")


def updates(request):
    return HttpResponse("to do")


def weekly(request):
    return HttpResponse("to do")
