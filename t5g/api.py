from django.http import JsonResponse
from django.urls import path


def index(request):
    return JsonResponse({})


urlpatterns = [path("", index, name="api")]
