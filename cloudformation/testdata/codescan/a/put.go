package a

import (
	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-sdk-go-v2/feature/s3/manager"
	lambdasdk "github.com/aws/aws-sdk-go-v2/service/lambda"
)

func put(u *manager.Uploader) {
	_ = manager.NewUploader(nil)
	_ = &lambdasdk.InvokeInput{}
	lambda.Start(func() error { return nil })
}
